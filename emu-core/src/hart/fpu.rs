//! IEEE-754 binary32/binary64 arithmetic with RISC-V F/D semantics (Unprivileged ISA 20191213,
//! ch. 11 "F" and ch. 12 "D"): every rounding mode, `fflags`, canonical NaN results, saturating
//! float→integer conversions, IEEE 754-2019 minimumNumber/maximumNumber for fmin/fmax, fclass.
//!
//! Pure functions on raw bit patterns: binary32 values are `u32`, binary64 values are `u64`.
//! NaN-boxing, register files, `frm`/`fcsr`, `mstatus.FS` and instruction decoding belong to the
//! hart, which resolves the dynamic rounding mode before calling here. Each operation returns its
//! result and the exception flags it raised, to be OR-ed into `fflags`.
//!
//! CONTRACT (shared by the hart and fpu teams; signatures must not change):
//! `add/sub/mul/div_{f32,f64}(a, b, rm) -> (bits, Flags)`, `sqrt_{f32,f64}(a, rm)`,
//! `fma_{f32,f64}(a, b, c, rm, negate_product, negate_addend)` computing
//! `(±(a·b)) ± c` with one rounding (fmadd: false,false; fmsub: false,true; fnmsub: true,false;
//! fnmadd: true,true), `min/max_{f32,f64}(a, b) -> (bits, Flags)`,
//! `eq/lt/le_{f32,f64}(a, b) -> (bool, Flags)` (eq signals only on sNaN; lt/le on any NaN),
//! `class_{f32,f64}(a) -> u64` (the 10-bit fclass mask),
//! `{f32,f64}_to_{i32,u32,i64,u64}(a, rm) -> (integer, Flags)` saturating per the spec's table,
//! `{i32,u32,i64,u64}_to_{f32,f64}(v, rm) -> (bits, Flags)`,
//! `f32_to_f64(a) -> (u64, Flags)`, `f64_to_f32(a, rm) -> (u32, Flags)`.

/// Exception flags as laid out in `fflags` (Unprivileged ISA §11.2): NX=1, UF=2, OF=4, DZ=8, NV=16.
pub type Flags = u8;
/// Inexact.
pub const NX: Flags = 1;
/// Underflow.
pub const UF: Flags = 2;
/// Overflow.
pub const OF: Flags = 4;
/// Divide by zero.
pub const DZ: Flags = 8;
/// Invalid operation.
pub const NV: Flags = 16;

/// Canonical quiet NaN of binary32.
pub const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
/// Canonical quiet NaN of binary64.
pub const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;

/// A static rounding mode (Unprivileged ISA §11.2, Table 11.1). The dynamic mode (7) is resolved
/// by the hart from `frm`; encodings 5 and 6 are reserved (illegal instruction, raised by the hart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundingMode {
    /// Round to nearest, ties to even (000).
    Rne = 0,
    /// Round towards zero (001).
    Rtz = 1,
    /// Round down, towards −∞ (010).
    Rdn = 2,
    /// Round up, towards +∞ (011).
    Rup = 3,
    /// Round to nearest, ties to max magnitude (100).
    Rmm = 4,
}

impl RoundingMode {
    /// The mode for a 3-bit `rm`/`frm` encoding; `None` for 5, 6, 7 (7 = dynamic is resolved by the
    /// caller before calling this).
    pub fn from_bits(bits: u64) -> Option<RoundingMode> {
        Some(match bits {
            0 => RoundingMode::Rne,
            1 => RoundingMode::Rtz,
            2 => RoundingMode::Rdn,
            3 => RoundingMode::Rup,
            4 => RoundingMode::Rmm,
            _ => return None,
        })
    }
}
