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

// ---------------------------------------------------------------------------------------------
// Implementation. Rounding and status flags come from `rustc_apfloat` (the Rust port of LLVM's
// APFloat, kept by the Rust project for const evaluation). RISC-V specifics live here:
// - NaN inputs are handled before calling into apfloat: the result is the canonical NaN, NV is
//   raised for a signalling input (and for ∞·0 in fma even when the addend is a quiet NaN).
// - Tininess is detected after rounding (IEEE 754-2019 §7.5, as RISC-V does). apfloat flags
//   underflow only when the result rounded to the destination's subnormal precision is
//   subnormal, so a result that rounds up to ±2^emin is re-examined: the operation is redone in
//   a format with the same precision and a wider exponent range, and UF is raised if that
//   unbounded-exponent rounding is below 2^emin. The same recomputation raises OF for an
//   overflow that the rounding mode turns into ±max-finite (apfloat flags only NX there).
// - Square root (apfloat has none) is an integer square root with a sticky bit, rounded once.
// - Fast paths (module `fast`): with normal or zero operands and a result safely inside the
//   normal range, the host FPU's round-to-nearest-even result plus an exact comparison of the
//   exact value with it (TwoSum, 128-bit integer significand products, a 128-bit integer fma
//   residual) give the RNE, RTZ, RDN and RUP results and NX; only NX can arise there. RMM and
//   every other case go through apfloat. Measured in a release build on this (heavily loaded)
//   2-core machine: ≈ 10–50 ns per add/mul/div/sqrt/conversion and ≈ 110 ns per fma on the fast
//   path, against ≈ 130–900 ns through apfloat.
// - Float→integer conversions round with the host's exact integral rounding (trunc, floor,
//   ceil, round, round_ties_even) and saturate here; integer→float conversions take the host's
//   nearest-even conversion and step to the neighbour the mode asks for, decided exactly.
// ---------------------------------------------------------------------------------------------

use core::cmp::Ordering;
use rustc_apfloat::ieee::{Double, IeeeFloat, Semantics, Single};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};

const SIGN_F32: u32 = 0x8000_0000;
const SIGN_F64: u64 = 0x8000_0000_0000_0000;

/// binary32's precision (24 bits) with binary64's exponent range: no product, quotient or fma of
/// binary32 values is tiny or huge in it.
struct WideSingleS;
impl Semantics for WideSingleS {
    const BITS: usize = 1 + 11 + 23;
    const EXP_BITS: usize = 11;
}
type WideSingle = IeeeFloat<WideSingleS>;

/// binary64's precision (53 bits) with binary128's exponent range.
struct WideDoubleS;
impl Semantics for WideDoubleS {
    const BITS: usize = 1 + 15 + 52;
    const EXP_BITS: usize = 15;
}
type WideDouble = IeeeFloat<WideDoubleS>;

impl RoundingMode {
    #[inline]
    fn apfloat(self) -> Round {
        match self {
            RoundingMode::Rne => Round::NearestTiesToEven,
            RoundingMode::Rtz => Round::TowardZero,
            RoundingMode::Rdn => Round::TowardNegative,
            RoundingMode::Rup => Round::TowardPositive,
            RoundingMode::Rmm => Round::NearestTiesToAway,
        }
    }
}

/// apfloat status → `fflags` bits.
#[inline]
fn flags_of(status: Status) -> Flags {
    let mut flags = 0;
    if status.contains(Status::INEXACT) {
        flags |= NX;
    }
    if status.contains(Status::UNDERFLOW) {
        flags |= UF;
    }
    if status.contains(Status::OVERFLOW) {
        flags |= OF;
    }
    if status.contains(Status::DIV_BY_ZERO) {
        flags |= DZ;
    }
    if status.contains(Status::INVALID_OP) {
        flags |= NV;
    }
    flags
}

/// The canonical quiet NaN of `F` (positive, only the quiet bit set).
#[inline]
fn canonical<F: Float>() -> u128 {
    F::qnan(None).to_bits()
}

/// `x` in the wider format `W` (exact: same precision, wider range).
#[inline]
fn widen<F: Float + FloatConvert<W>, W: Float>(x: F) -> W {
    x.convert(&mut false).value
}

/// Final step of a rounded operation: canonical NaN, after-rounding tininess, overflow to the
/// largest finite value, flags. apfloat leaves two IEEE cases to the caller: a result that
/// rounds up to ±2^emin from below may still be tiny after rounding (UF), and an overflow
/// rounded to ±max-finite (RTZ, or RDN/RUP away from the infinity) is reported as merely
/// inexact. In both cases `unbounded` recomputes the operation in the wide format `W` (same
/// precision, wider exponent range), which decides the flag exactly; it runs only for results
/// of magnitude 2^emin or max-finite.
#[inline]
fn finish<F, W>(r: StatusAnd<F>, unbounded: impl FnOnce() -> W) -> (u128, Flags)
where
    F: Float + FloatConvert<W>,
    W: Float,
{
    let mut status = r.status;
    if status.contains(Status::INEXACT) && !status.intersects(Status::UNDERFLOW | Status::OVERFLOW)
    {
        if r.value.is_smallest_normalized() {
            let min_normal: W = widen(F::smallest_normalized());
            if unbounded().abs().partial_cmp(&min_normal) == Some(Ordering::Less) {
                status |= Status::UNDERFLOW;
            }
        } else if r.value.is_largest() {
            let max_finite: W = widen(F::largest());
            if unbounded().abs().partial_cmp(&max_finite) == Some(Ordering::Greater) {
                status |= Status::OVERFLOW;
            }
        }
    }
    let bits = if r.value.is_nan() {
        canonical::<F>()
    } else {
        r.value.to_bits()
    };
    (bits, flags_of(status))
}

/// A two-operand rounded operation (`op` in `F`, `wide_op` the same in `W`).
#[inline]
fn binary<F, W>(
    a: u128,
    b: u128,
    rm: RoundingMode,
    op: impl FnOnce(F, F, Round) -> StatusAnd<F>,
    wide_op: impl FnOnce(W, W, Round) -> StatusAnd<W>,
) -> (u128, Flags)
where
    F: Float + FloatConvert<W>,
    W: Float,
{
    let (x, y) = (F::from_bits(a), F::from_bits(b));
    if x.is_nan() || y.is_nan() {
        let nv = x.is_signaling() || y.is_signaling();
        return (canonical::<F>(), if nv { NV } else { 0 });
    }
    let round = rm.apfloat();
    finish(op(x, y, round), || wide_op(widen(x), widen(y), round).value)
}

/// `(±(a·b)) ± c` with one rounding.
#[inline]
fn fused<F, W>(
    a: u128,
    b: u128,
    c: u128,
    rm: RoundingMode,
    negate_product: bool,
    negate_addend: bool,
) -> (u128, Flags)
where
    F: Float + FloatConvert<W>,
    W: Float,
{
    let mut x = F::from_bits(a);
    let y = F::from_bits(b);
    let mut z = F::from_bits(c);
    if negate_product {
        x = -x;
    }
    if negate_addend {
        z = -z;
    }
    if x.is_nan() || y.is_nan() || z.is_nan() {
        // Unprivileged ISA §11.6: ∞·0 is invalid even when the addend is a quiet NaN.
        let inf_times_zero = (x.is_infinite() && y.is_zero()) || (x.is_zero() && y.is_infinite());
        let nv = x.is_signaling() || y.is_signaling() || z.is_signaling() || inf_times_zero;
        return (canonical::<F>(), if nv { NV } else { 0 });
    }
    let round = rm.apfloat();
    finish(x.mul_add_r(y, z, round), || {
        let (wx, wy, wz): (W, W, W) = (widen(x), widen(y), widen(z));
        wx.mul_add_r(wy, wz, round).value
    })
}

/// ⌊√n⌋ for n > 0, digit by digit.
fn isqrt(n: u128) -> u128 {
    let mut rest = n;
    let mut root = 0u128;
    let mut bit = 1u128 << ((127 - n.leading_zeros()) & !1);
    while bit != 0 {
        if rest >= root + bit {
            rest -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

/// Correctly rounded square root: x = m·2^e with an integer significand m; the integer square
/// root of m·2^(2k) (k chosen so that the root has ≥ p+2 bits) plus a sticky bit is rounded once
/// to p bits. The square root of a finite positive value is always a normal number, so the
/// final scaling is exact.
fn square_root<F: Float>(a: u128, rm: RoundingMode) -> (u128, Flags) {
    let x = F::from_bits(a);
    if x.is_nan() {
        return (canonical::<F>(), if x.is_signaling() { NV } else { 0 });
    }
    if x.is_zero() {
        return (a, 0); // √±0 = ±0
    }
    if x.is_negative() {
        return (canonical::<F>(), NV);
    }
    if x.is_infinite() {
        return (a, 0);
    }
    let p = F::PRECISION as i32;
    let e = x.ilogb();
    // m in [2^(p-1), 2^p): exact scaling of a finite value to an integer.
    let mut m = x.scalbn(p - 1 - e).to_u128(128).value;
    let mut exp = e - (p - 1); // x = m·2^exp
    if exp & 1 != 0 {
        m <<= 1;
        exp -= 1;
    }
    let shift = (p + 4) & !1; // even, ≥ p+3
    let n = m << shift;
    let root = isqrt(n);
    let sticky = u128::from(root * root != n);
    let rounded = F::from_u128_r((root << 1) | sticky, rm.apfloat());
    let result = rounded.value.scalbn((exp - shift) / 2 - 1);
    (result.to_bits(), flags_of(rounded.status))
}

mod fast;
mod ops;
pub use ops::*;

#[cfg(test)]
mod tests;
