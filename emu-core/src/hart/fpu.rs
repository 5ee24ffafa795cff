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

/// Fast paths on the host FPU for the common case: normal or zero operands and a result that
/// is neither NaN, infinite, subnormal, ±2^emin nor ±max-finite. The host computes the
/// round-to-nearest-even result `r`; then no UF/OF/DZ/NV can arise, and how the exact value
/// compares with `r` in magnitude is decided exactly from the operands (an error-free TwoSum
/// for addition, 128-bit integer significand products for multiplication, division and square
/// root, a 128-bit integer residual for fma). That comparison gives NX and, since the exact
/// value lies within half an ulp of `r`, the RTZ/RDN/RUP result: `r` or its neighbour on the
/// exact value's side. RMM, which needs to tell ties apart, and anything else return `None`
/// and go through apfloat.
mod fast {
    use super::{Flags, RoundingMode, NX};
    use core::cmp::Ordering;
    use core::ops::{Add, Div, Mul, Sub};

    /// The host float types, with raw bits carried in a `u64`.
    pub(super) trait Host:
        Copy
        + PartialOrd
        + Add<Output = Self>
        + Sub<Output = Self>
        + Mul<Output = Self>
        + Div<Output = Self>
    {
        /// Stored fraction bits (23 or 52).
        const FRACTION_BITS: u32;
        /// Exponent bias (127 or 1023).
        const BIAS: i32;
        /// Position of the sign bit (31 or 63).
        const SIGN_BIT: u32;
        /// 2^emin, the smallest positive normal value.
        const MIN_NORMAL: Self;
        /// The largest finite value.
        const MAX_FINITE: Self;
        /// 2^(emax−1): addends below it keep TwoSum's intermediates finite.
        const HALF_RANGE: Self;
        const ZERO: Self;
        fn from_raw(bits: u64) -> Self;
        fn raw(self) -> u64;
        fn root(self) -> Self;
        fn magnitude(self) -> Self;
        /// `self·a + b` with one rounding (host round-to-nearest-even).
        fn fused(self, a: Self, b: Self) -> Self;
    }

    macro_rules! host {
        ($t:ty, $fraction:expr, $bias:expr, $sign:expr, $half_range:expr) => {
            impl Host for $t {
                const FRACTION_BITS: u32 = $fraction;
                const BIAS: i32 = $bias;
                const SIGN_BIT: u32 = $sign;
                const MIN_NORMAL: $t = <$t>::MIN_POSITIVE;
                const MAX_FINITE: $t = <$t>::MAX;
                const HALF_RANGE: $t = <$t>::from_bits($half_range);
                const ZERO: $t = 0.0;
                #[inline]
                fn from_raw(bits: u64) -> $t {
                    <$t>::from_bits(bits as _)
                }
                #[inline]
                fn raw(self) -> u64 {
                    self.to_bits().into()
                }
                #[inline]
                fn root(self) -> $t {
                    self.sqrt()
                }
                #[inline]
                fn magnitude(self) -> $t {
                    self.abs()
                }
                #[inline]
                fn fused(self, a: $t, b: $t) -> $t {
                    self.mul_add(a, b)
                }
            }
        };
    }
    host!(f32, 23, 127, 31, 0x7e80_0000);
    host!(f64, 52, 1023, 63, 0x7fd0_0000_0000_0000);

    /// Zero or normal (not subnormal, infinite or NaN).
    #[inline]
    fn plain<H: Host>(x: H) -> bool {
        let m = x.magnitude();
        m == H::ZERO || (m >= H::MIN_NORMAL && m <= H::MAX_FINITE)
    }

    /// Strictly between 2^emin and max-finite in magnitude: the exact value is then neither tiny
    /// nor overflowing, and both neighbours of `r` are normal or max-finite.
    #[inline]
    fn safe<H: Host>(r: H) -> bool {
        let m = r.magnitude();
        m > H::MIN_NORMAL && m < H::MAX_FINITE
    }

    /// A normal value as (integer significand with the hidden bit, exponent of its lowest bit).
    #[inline]
    fn parts<H: Host>(x: H) -> (u128, i32) {
        let bits = x.raw() & !(1 << H::SIGN_BIT);
        let fraction = bits & ((1 << H::FRACTION_BITS) - 1);
        let biased = (bits >> H::FRACTION_BITS) as i32;
        (
            u128::from(fraction | 1 << H::FRACTION_BITS),
            biased - H::BIAS - H::FRACTION_BITS as i32,
        )
    }

    /// Compares a·2^ea with b·2^eb (a, b > 0, both below 2^120).
    #[inline]
    fn compare_scaled(a: u128, ea: i32, b: u128, eb: i32) -> Ordering {
        if ea >= eb {
            let shift = (ea - eb) as u32;
            if shift >= a.leading_zeros() {
                Ordering::Greater // a·2^shift ≥ 2^127 > b
            } else {
                (a << shift).cmp(&b)
            }
        } else {
            compare_scaled(b, eb, a, ea).reverse()
        }
    }

    /// The result in mode `rm` from the nearest-even result `r` (safe, non-zero) and the
    /// comparison |exact| vs |r|.
    #[inline]
    fn rounded<H: Host>(r: H, exact_vs_r: Ordering, rm: RoundingMode) -> Option<(u64, Flags)> {
        use Ordering::{Equal, Greater, Less};
        let bits = r.raw();
        if exact_vs_r == Equal {
            return Some((bits, 0));
        }
        let negative = r < H::ZERO;
        // +1 / −1 on the bit pattern moves the magnitude away from / towards zero.
        let bits = match (rm, negative, exact_vs_r) {
            (RoundingMode::Rne, _, _) => bits,
            (RoundingMode::Rmm, _, _) => return None,
            (RoundingMode::Rtz, _, Less) => bits - 1,
            (RoundingMode::Rup, false, Greater) | (RoundingMode::Rdn, true, Greater) => bits + 1,
            (RoundingMode::Rup, true, Less) | (RoundingMode::Rdn, false, Less) => bits - 1,
            _ => bits,
        };
        Some((bits, NX))
    }

    /// The sign of a non-zero exact residual `exact − r` turned into |exact| vs |r|.
    #[inline]
    fn magnitude_order<H: Host>(residual_positive: bool, r: H) -> Ordering {
        if residual_positive == (r > H::ZERO) {
            Ordering::Greater
        } else {
            Ordering::Less
        }
    }

    #[inline]
    pub(super) fn add<H: Host>(a: u64, b: u64, rm: RoundingMode) -> Option<(u64, Flags)> {
        let (x, y) = (H::from_raw(a), H::from_raw(b));
        // TwoSum below is error-free only if none of its intermediates overflows.
        let moderate = |v: H| v.magnitude() < H::HALF_RANGE;
        if !(plain(x) && plain(y) && moderate(x) && moderate(y)) {
            return None;
        }
        let r = x + y;
        if r == H::ZERO {
            // Zero or normal operands cancel exactly; the sign of an exact zero sum is the
            // host's only in round-to-nearest (RDN gives −0).
            return (rm == RoundingMode::Rne).then_some((r.raw(), 0));
        }
        if !safe(r) {
            return None;
        }
        // TwoSum (Knuth): the rounding error of x + y, exact in round-to-nearest.
        let t = r - x;
        let error = (x - (r - t)) + (y - t);
        if error == H::ZERO {
            return Some((r.raw(), 0));
        }
        rounded(r, magnitude_order(error > H::ZERO, r), rm)
    }

    #[inline]
    pub(super) fn mul<H: Host>(a: u64, b: u64, rm: RoundingMode) -> Option<(u64, Flags)> {
        let (x, y) = (H::from_raw(a), H::from_raw(b));
        if !(plain(x) && plain(y)) {
            return None;
        }
        let r = x * y;
        if x == H::ZERO || y == H::ZERO {
            return Some((r.raw(), 0)); // exact; the sign does not depend on the mode
        }
        if !safe(r) {
            return None;
        }
        let ((mx, ex), (my, ey), (mr, er)) = (parts(x), parts(y), parts(r));
        rounded(r, compare_scaled(mx * my, ex + ey, mr, er), rm)
    }

    #[inline]
    pub(super) fn div<H: Host>(a: u64, b: u64, rm: RoundingMode) -> Option<(u64, Flags)> {
        let (x, y) = (H::from_raw(a), H::from_raw(b));
        if !(plain(x) && plain(y)) || y == H::ZERO {
            return None;
        }
        let r = x / y;
        if x == H::ZERO {
            return Some((r.raw(), 0));
        }
        if !safe(r) {
            return None;
        }
        // |x/y| vs |r| ⇔ |x| vs |r|·|y|.
        let ((mx, ex), (my, ey), (mr, er)) = (parts(x), parts(y), parts(r));
        rounded(r, compare_scaled(mx, ex, mr * my, er + ey), rm)
    }

    #[inline]
    pub(super) fn sqrt<H: Host>(a: u64, rm: RoundingMode) -> Option<(u64, Flags)> {
        let x = H::from_raw(a);
        if !plain(x) || x < H::ZERO {
            return None;
        }
        if x == H::ZERO {
            return Some((a, 0)); // √±0 = ±0
        }
        let r = x.root(); // √ of a normal value is normal and far from max-finite
                          // √x vs r ⇔ x vs r².
        let ((mx, ex), (mr, er)) = (parts(x), parts(r));
        rounded(r, compare_scaled(mx, ex, mr * mr, 2 * er), rm)
    }

    /// `a·b + c` with one rounding (the caller has applied the fnmadd/fmsub negations to the
    /// signs of `a` and `c`). The residual a·b + c − r is evaluated exactly in 128-bit
    /// integers; operands whose exponents are too far apart for that fall back.
    #[inline]
    pub(super) fn fma<H: Host>(a: u64, b: u64, c: u64, rm: RoundingMode) -> Option<(u64, Flags)> {
        let (x, y, z) = (H::from_raw(a), H::from_raw(b), H::from_raw(c));
        if !(plain(x) && plain(y) && plain(z)) {
            return None;
        }
        let r = x.fused(y, z);
        if x == H::ZERO || y == H::ZERO {
            // An exact zero product: r = ±0 + z is exact; for z = ±0 the sign of the zero sum
            // is the host's only in round-to-nearest.
            return (z != H::ZERO || rm == RoundingMode::Rne).then_some((r.raw(), 0));
        }
        if !safe(r) {
            return None;
        }
        let sign = |v: H| v < H::ZERO;
        let ((mx, ex), (my, ey), (mr, er)) = (parts(x), parts(y), parts(r));
        // Terms (negative, magnitude, exponent of the lowest bit) of a·b + c − r.
        let mut terms = [
            (sign(x) != sign(y), mx * my, ex + ey),
            (!sign(r), mr, er),
            (false, 0, er),
        ];
        if z != H::ZERO {
            let (mz, ez) = parts(z);
            terms[2] = (sign(z), mz, ez);
        }
        let base = terms.iter().map(|t| t.2).min().unwrap_or(er);
        let mut residual: i128 = 0;
        for (negative, magnitude, lsb) in terms {
            if magnitude == 0 {
                continue;
            }
            let shift = (lsb - base) as u32;
            if 128 - magnitude.leading_zeros() + shift > 124 {
                return None; // exponents too far apart for 128-bit arithmetic
            }
            let term = (magnitude << shift) as i128;
            residual += if negative { -term } else { term };
        }
        if residual == 0 {
            return Some((r.raw(), 0));
        }
        rounded(r, magnitude_order(residual > 0, r), rm)
    }

    /// binary64 → binary32.
    #[inline]
    pub(super) fn narrow(a: u64, rm: RoundingMode) -> Option<(u32, Flags)> {
        let y = f64::from_bits(a);
        let r = y as f32;
        if y == 0.0 {
            return Some((r.to_bits(), 0));
        }
        if !safe(r) {
            return None;
        }
        let (r, flags) = rounded(r, y.abs().total_cmp(&f64::from(r.abs())), rm)?;
        Some((r as u32, flags))
    }
}

/// Generates the operations of one format: `$bits` is the raw type, `$ap` the apfloat type,
/// `$wide` the same-precision wider-range type, `$host` the host float type (used only where
/// it is exact: ordered comparisons of non-NaN values and integral-valued casts).
macro_rules! float_ops {
    (
        $bits:ty, $ap:ty, $wide:ty, $host:ty, $sign:expr, $exp_mask:expr, $quiet:expr,
        $nan:expr, name = $name:literal,
        add = $add:ident, sub = $sub:ident, mul = $mul:ident, div = $div:ident,
        sqrt = $sqrt:ident, fma = $fma:ident, min = $min:ident, max = $max:ident,
        eq = $eq:ident, lt = $lt:ident, le = $le:ident, class = $class:ident,
        is_nan = $is_nan:ident, is_snan = $is_snan:ident,
        to_i32 = $to_i32:ident, to_u32 = $to_u32:ident, to_i64 = $to_i64:ident,
        to_u64 = $to_u64:ident, to_int = $to_int:ident, from_int = $from_int:ident,
        from_i32 = $from_i32:ident, from_u32 = $from_u32:ident,
        from_i64 = $from_i64:ident, from_u64 = $from_u64:ident
    ) => {
        #[inline]
        fn $is_nan(a: $bits) -> bool {
            a & !$sign > $exp_mask
        }

        #[inline]
        fn $is_snan(a: $bits) -> bool {
            $is_nan(a) && a & $quiet == 0
        }

        #[doc = concat!("`fadd.", $name, "`: `a + b` rounded per `rm` (IEEE 754-2019 §5.4.1).")]
        #[inline]
        pub fn $add(a: $bits, b: $bits, rm: RoundingMode) -> ($bits, Flags) {
            if let Some((r, f)) = fast::add::<$host>(a.into(), b.into(), rm) {
                return (r as $bits, f);
            }
            let (r, f) = binary::<$ap, $wide>(
                a.into(),
                b.into(),
                rm,
                |x, y, r| x.add_r(y, r),
                |x, y, r| x.add_r(y, r),
            );
            (r as $bits, f)
        }

        #[doc = concat!("`fsub.", $name, "`: `a − b` rounded per `rm` (IEEE 754-2019 §5.4.1).")]
        #[inline]
        pub fn $sub(a: $bits, b: $bits, rm: RoundingMode) -> ($bits, Flags) {
            // a − b is a + (−b) exactly, signed zeros included.
            if let Some((r, f)) = fast::add::<$host>(a.into(), (b ^ $sign).into(), rm) {
                return (r as $bits, f);
            }
            let (r, f) = binary::<$ap, $wide>(
                a.into(),
                b.into(),
                rm,
                |x, y, r| x.sub_r(y, r),
                |x, y, r| x.sub_r(y, r),
            );
            (r as $bits, f)
        }

        #[doc = concat!("`fmul.", $name, "`: `a · b` rounded per `rm` (IEEE 754-2019 §5.4.1).")]
        #[inline]
        pub fn $mul(a: $bits, b: $bits, rm: RoundingMode) -> ($bits, Flags) {
            if let Some((r, f)) = fast::mul::<$host>(a.into(), b.into(), rm) {
                return (r as $bits, f);
            }
            let (r, f) = binary::<$ap, $wide>(
                a.into(),
                b.into(),
                rm,
                |x, y, r| x.mul_r(y, r),
                |x, y, r| x.mul_r(y, r),
            );
            (r as $bits, f)
        }

        #[doc = concat!("`fdiv.", $name, "`: `a / b` rounded per `rm`; a finite non-zero `a` over ")]
        /// zero gives a signed infinity and DZ; 0/0 and ∞/∞ give the canonical NaN and NV.
        #[inline]
        pub fn $div(a: $bits, b: $bits, rm: RoundingMode) -> ($bits, Flags) {
            if let Some((r, f)) = fast::div::<$host>(a.into(), b.into(), rm) {
                return (r as $bits, f);
            }
            let (r, f) = binary::<$ap, $wide>(
                a.into(),
                b.into(),
                rm,
                |x, y, r| x.div_r(y, r),
                |x, y, r| x.div_r(y, r),
            );
            (r as $bits, f)
        }

        #[doc = concat!("`fsqrt.", $name, "`: √a rounded per `rm`; √−0 = −0; the square root of a ")]
        /// negative value (−∞ included) is the canonical NaN with NV.
        #[inline]
        pub fn $sqrt(a: $bits, rm: RoundingMode) -> ($bits, Flags) {
            if let Some((r, f)) = fast::sqrt::<$host>(a.into(), rm) {
                return (r as $bits, f);
            }
            let (r, f) = square_root::<$ap>(a.into(), rm);
            (r as $bits, f)
        }

        #[doc = concat!("`f[n]madd/f[n]msub.", $name, "`: `(±(a·b)) ± c` with a single rounding ")]
        /// (Unprivileged ISA §11.6). `negate_product` negates `a·b`, `negate_addend` negates `c`:
        /// fmadd (false, false), fmsub (false, true), fnmsub (true, false), fnmadd (true, true).
        /// ∞·0 raises NV even when `c` is a quiet NaN.
        #[inline]
        pub fn $fma(
            a: $bits,
            b: $bits,
            c: $bits,
            rm: RoundingMode,
            negate_product: bool,
            negate_addend: bool,
        ) -> ($bits, Flags) {
            // Negation is exact: flip the sign bits of a (the product) and c.
            let a_signed = if negate_product { a ^ $sign } else { a };
            let c_signed = if negate_addend { c ^ $sign } else { c };
            if let Some((r, f)) = fast::fma::<$host>(a_signed.into(), b.into(), c_signed.into(), rm) {
                return (r as $bits, f);
            }
            let (r, f) = fused::<$ap, $wide>(
                a.into(),
                b.into(),
                c.into(),
                rm,
                negate_product,
                negate_addend,
            );
            (r as $bits, f)
        }

        #[doc = concat!("`fmin.", $name, "`: IEEE 754-2019 minimumNumber (Unprivileged ISA §11.6, ")]
        /// v2.2+): −0 < +0; one NaN operand → the other operand; both NaN → canonical NaN;
        /// NV if either input is a signalling NaN.
        #[inline]
        pub fn $min(a: $bits, b: $bits) -> ($bits, Flags) {
            let flags = if $is_snan(a) || $is_snan(b) { NV } else { 0 };
            let r = match ($is_nan(a), $is_nan(b)) {
                (true, true) => $nan,
                (true, false) => b,
                (false, true) => a,
                (false, false) => {
                    if (a | b) & !$sign == 0 {
                        a | b // both zeros: −0 if either is −0
                    } else if <$host>::from_bits(a) < <$host>::from_bits(b) {
                        a
                    } else {
                        b
                    }
                }
            };
            (r, flags)
        }

        #[doc = concat!("`fmax.", $name, "`: IEEE 754-2019 maximumNumber (Unprivileged ISA §11.6, ")]
        /// v2.2+): +0 > −0; one NaN operand → the other operand; both NaN → canonical NaN;
        /// NV if either input is a signalling NaN.
        #[inline]
        pub fn $max(a: $bits, b: $bits) -> ($bits, Flags) {
            let flags = if $is_snan(a) || $is_snan(b) { NV } else { 0 };
            let r = match ($is_nan(a), $is_nan(b)) {
                (true, true) => $nan,
                (true, false) => b,
                (false, true) => a,
                (false, false) => {
                    if (a | b) & !$sign == 0 {
                        a & b // both zeros: +0 unless both are −0
                    } else if <$host>::from_bits(a) > <$host>::from_bits(b) {
                        a
                    } else {
                        b
                    }
                }
            };
            (r, flags)
        }

        #[doc = concat!("`feq.", $name, "`: quiet equality (+0 = −0; a NaN equals nothing); NV ")]
        /// only for a signalling NaN input (Unprivileged ISA §11.8).
        #[inline]
        pub fn $eq(a: $bits, b: $bits) -> (bool, Flags) {
            if $is_nan(a) || $is_nan(b) {
                let flags = if $is_snan(a) || $is_snan(b) { NV } else { 0 };
                return (false, flags);
            }
            (<$host>::from_bits(a) == <$host>::from_bits(b), 0)
        }

        #[doc = concat!("`flt.", $name, "`: signalling `a < b`: any NaN input gives false and NV ")]
        /// (Unprivileged ISA §11.8).
        #[inline]
        pub fn $lt(a: $bits, b: $bits) -> (bool, Flags) {
            if $is_nan(a) || $is_nan(b) {
                return (false, NV);
            }
            (<$host>::from_bits(a) < <$host>::from_bits(b), 0)
        }

        #[doc = concat!("`fle.", $name, "`: signalling `a ≤ b`: any NaN input gives false and NV ")]
        /// (Unprivileged ISA §11.8).
        #[inline]
        pub fn $le(a: $bits, b: $bits) -> (bool, Flags) {
            if $is_nan(a) || $is_nan(b) {
                return (false, NV);
            }
            (<$host>::from_bits(a) <= <$host>::from_bits(b), 0)
        }

        #[doc = concat!("`fclass.", $name, "`: the 10-bit class mask (Unprivileged ISA §11.9, ")]
        /// Table 11.5): bit 0 −∞, 1 negative normal, 2 negative subnormal, 3 −0, 4 +0,
        /// 5 positive subnormal, 6 positive normal, 7 +∞, 8 signalling NaN, 9 quiet NaN.
        #[inline]
        pub fn $class(a: $bits) -> u64 {
            let negative = a & $sign != 0;
            let magnitude = a & !$sign;
            let bit = if magnitude > $exp_mask {
                if a & $quiet != 0 {
                    9
                } else {
                    8
                }
            } else if magnitude == $exp_mask {
                if negative {
                    0
                } else {
                    7
                }
            } else if magnitude == 0 {
                if negative {
                    3
                } else {
                    4
                }
            } else if magnitude & $exp_mask == 0 {
                if negative {
                    2
                } else {
                    5
                }
            } else if negative {
                1
            } else {
                6
            };
            1 << bit
        }

        /// Rounds `a` to an integral value per `rm` (the host's integral rounding functions are
        /// exact), then saturates to `[lo, hi)` (both zero or powers of two, exact in the host
        /// type). Returns the integral host value, or the saturation side (`Err(true)` for the
        /// negative side), with the flags.
        #[inline]
        fn $to_int(a: $bits, rm: RoundingMode, lo: $host, hi: $host) -> (Result<$host, bool>, Flags) {
            let x = <$host>::from_bits(a);
            if x.is_nan() {
                return (Err(false), NV);
            }
            let v = match rm {
                RoundingMode::Rne => x.round_ties_even(),
                RoundingMode::Rtz => x.trunc(),
                RoundingMode::Rdn => x.floor(),
                RoundingMode::Rup => x.ceil(),
                RoundingMode::Rmm => x.round(),
            };
            if v >= lo && v < hi {
                (Ok(v), if v != x { NX } else { 0 })
            } else {
                (Err(v < 0.0), NV)
            }
        }

        #[doc = concat!("`fcvt.w.", $name, "`: to `i32` rounded per `rm`, saturating per ")]
        /// Unprivileged ISA §11.7 Table 11.4 (NaN and too large → `i32::MAX`, too small →
        /// `i32::MIN`, with NV only); NX when inexact. The hart sign-extends to XLEN.
        #[inline]
        pub fn $to_i32(a: $bits, rm: RoundingMode) -> (i32, Flags) {
            match $to_int(a, rm, -2147483648.0, 2147483648.0) {
                (Ok(v), f) => (v as i32, f),
                (Err(negative), f) => (if negative { i32::MIN } else { i32::MAX }, f),
            }
        }

        #[doc = concat!("`fcvt.wu.", $name, "`: to `u32` rounded per `rm`, saturating per ")]
        /// Table 11.4 (NaN and too large → `u32::MAX`, negative after rounding → 0, with NV
        /// only; a negative value that rounds to 0 gives 0 with NX only); NX when inexact.
        /// The hart sign-extends the 32-bit result to XLEN.
        #[inline]
        pub fn $to_u32(a: $bits, rm: RoundingMode) -> (u32, Flags) {
            match $to_int(a, rm, 0.0, 4294967296.0) {
                (Ok(v), f) => (v as u32, f),
                (Err(negative), f) => (if negative { 0 } else { u32::MAX }, f),
            }
        }

        #[doc = concat!("`fcvt.l.", $name, "`: to `i64` rounded per `rm`, saturating per ")]
        /// Table 11.4 (NaN and too large → `i64::MAX`, too small → `i64::MIN`, with NV only);
        /// NX when inexact.
        #[inline]
        pub fn $to_i64(a: $bits, rm: RoundingMode) -> (i64, Flags) {
            match $to_int(a, rm, -9223372036854775808.0, 9223372036854775808.0) {
                (Ok(v), f) => (v as i64, f),
                (Err(negative), f) => (if negative { i64::MIN } else { i64::MAX }, f),
            }
        }

        #[doc = concat!("`fcvt.lu.", $name, "`: to `u64` rounded per `rm`, saturating per ")]
        /// Table 11.4 (NaN and too large → `u64::MAX`, negative after rounding → 0, with NV
        /// only); NX when inexact.
        #[inline]
        pub fn $to_u64(a: $bits, rm: RoundingMode) -> (u64, Flags) {
            match $to_int(a, rm, 0.0, 18446744073709551616.0) {
                (Ok(v), f) => (v as u64, f),
                (Err(negative), f) => (if negative { 0 } else { u64::MAX }, f),
            }
        }

        /// The integer `v` rounded to this format per `rm`: the host's conversion rounds to
        /// nearest-even; the result is compared with `v` exactly and moved to the neighbour the
        /// mode asks for.
        #[inline]
        fn $from_int(v: i128, rm: RoundingMode) -> ($bits, Flags) {
            let nearest = v as $host;
            let nearest_int = nearest as i128; // |nearest| ≤ 2^64: exact
            if nearest_int == v {
                return (nearest.to_bits(), 0);
            }
            // Neighbours of a non-zero value: one step of the magnitude's bit pattern.
            let step = |x: $host, up: bool| {
                let bits = x.to_bits();
                <$host>::from_bits(if (x > 0.0) == up { bits + 1 } else { bits - 1 })
            };
            let (below, above) = if nearest_int < v {
                (nearest, step(nearest, true))
            } else {
                (step(nearest, false), nearest)
            };
            let r = match rm {
                RoundingMode::Rne => nearest,
                RoundingMode::Rdn => below,
                RoundingMode::Rup => above,
                RoundingMode::Rtz => if v > 0 { below } else { above },
                RoundingMode::Rmm => {
                    if below as i128 + above as i128 == 2 * v {
                        if v > 0 { above } else { below }
                    } else {
                        nearest
                    }
                }
            };
            (r.to_bits(), NX)
        }

        #[doc = concat!("`fcvt.", $name, ".w`: from `i32`, rounded per `rm` (NX when inexact).")]
        #[inline]
        pub fn $from_i32(v: i32, rm: RoundingMode) -> ($bits, Flags) {
            $from_int(v.into(), rm)
        }

        #[doc = concat!("`fcvt.", $name, ".wu`: from `u32`, rounded per `rm` (NX when inexact).")]
        #[inline]
        pub fn $from_u32(v: u32, rm: RoundingMode) -> ($bits, Flags) {
            $from_int(v.into(), rm)
        }

        #[doc = concat!("`fcvt.", $name, ".l`: from `i64`, rounded per `rm` (NX when inexact).")]
        #[inline]
        pub fn $from_i64(v: i64, rm: RoundingMode) -> ($bits, Flags) {
            $from_int(v.into(), rm)
        }

        #[doc = concat!("`fcvt.", $name, ".lu`: from `u64`, rounded per `rm` (NX when inexact).")]
        #[inline]
        pub fn $from_u64(v: u64, rm: RoundingMode) -> ($bits, Flags) {
            $from_int(v.into(), rm)
        }
    };
}

float_ops!(
    u32,
    Single,
    WideSingle,
    f32,
    SIGN_F32,
    0x7f80_0000u32,
    0x0040_0000u32,
    CANONICAL_NAN_F32,
    name = "s",
    add = add_f32,
    sub = sub_f32,
    mul = mul_f32,
    div = div_f32,
    sqrt = sqrt_f32,
    fma = fma_f32,
    min = min_f32,
    max = max_f32,
    eq = eq_f32,
    lt = lt_f32,
    le = le_f32,
    class = class_f32,
    is_nan = is_nan_f32,
    is_snan = is_snan_f32,
    to_i32 = f32_to_i32,
    to_u32 = f32_to_u32,
    to_i64 = f32_to_i64,
    to_u64 = f32_to_u64,
    to_int = f32_to_integral,
    from_int = f32_from_integer,
    from_i32 = i32_to_f32,
    from_u32 = u32_to_f32,
    from_i64 = i64_to_f32,
    from_u64 = u64_to_f32
);

float_ops!(
    u64,
    Double,
    WideDouble,
    f64,
    SIGN_F64,
    0x7ff0_0000_0000_0000u64,
    0x0008_0000_0000_0000u64,
    CANONICAL_NAN_F64,
    name = "d",
    add = add_f64,
    sub = sub_f64,
    mul = mul_f64,
    div = div_f64,
    sqrt = sqrt_f64,
    fma = fma_f64,
    min = min_f64,
    max = max_f64,
    eq = eq_f64,
    lt = lt_f64,
    le = le_f64,
    class = class_f64,
    is_nan = is_nan_f64,
    is_snan = is_snan_f64,
    to_i32 = f64_to_i32,
    to_u32 = f64_to_u32,
    to_i64 = f64_to_i64,
    to_u64 = f64_to_u64,
    to_int = f64_to_integral,
    from_int = f64_from_integer,
    from_i32 = i32_to_f64,
    from_u32 = u32_to_f64,
    from_i64 = i64_to_f64,
    from_u64 = u64_to_f64
);

/// `fcvt.d.s`: widen binary32 to binary64 (exact; a NaN becomes the canonical NaN, NV if it was
/// signalling). Unprivileged ISA §12.5.
#[inline]
pub fn f32_to_f64(a: u32) -> (u64, Flags) {
    if is_nan_f32(a) {
        return (CANONICAL_NAN_F64, if is_snan_f32(a) { NV } else { 0 });
    }
    // Every binary32 value, subnormals included, is exact in binary64.
    ((f32::from_bits(a) as f64).to_bits(), 0)
}

/// `fcvt.s.d`: narrow binary64 to binary32 rounded per `rm` (OF|NX past the binary32 range, UF
/// for tiny inexact results, the canonical NaN for a NaN). Unprivileged ISA §12.5.
#[inline]
pub fn f64_to_f32(a: u64, rm: RoundingMode) -> (u32, Flags) {
    if is_nan_f64(a) {
        return (CANONICAL_NAN_F32, if is_snan_f64(a) { NV } else { 0 });
    }
    if let Some(r) = fast::narrow(a, rm) {
        return r;
    }
    let x = Double::from_bits(a.into());
    let round = rm.apfloat();
    let narrowed: StatusAnd<Single> = x.convert_r(round, &mut false);
    let (r, f) = finish(narrowed, || {
        let unbounded: StatusAnd<WideSingle> = x.convert_r(round, &mut false);
        unbounded.value
    });
    (r as u32, f)
}

#[cfg(test)]
mod tests {
    //! The host fast paths against the apfloat paths they short-cut, on random operands.
    use super::*;
    use proptest::prelude::*;

    fn operand_f64() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            // Exponents near 1, near the subnormal boundary and near overflow; short
            // significands so that exact results are common.
            (
                any::<bool>(),
                prop_oneof![1000u64..1050, 0u64..60, 2000u64..2047],
                0u64..64
            )
                .prop_map(|(neg, e, m)| (u64::from(neg) << 63) | e << 52 | m << 46),
            (any::<bool>(), 0u64..2047, 0u64..8, any::<bool>()).prop_map(|(neg, e, k, ones)| {
                (u64::from(neg) << 63) | e << 52 | if ones { 0xf_ffff_ffff_ffff - k } else { 0 }
            }),
        ]
    }

    fn operand_f32() -> impl Strategy<Value = u32> {
        prop_oneof![
            any::<u32>(),
            (
                any::<bool>(),
                prop_oneof![110u32..140, 0u32..30, 230u32..255],
                0u32..64
            )
                .prop_map(|(neg, e, m)| (u32::from(neg) << 31) | e << 23 | m << 17),
            // Significands of nearly all ones (products round up across a binade) and exact
            // powers of two: products land on 2^emin from below.
            (any::<bool>(), 0u32..254, 0u32..8, any::<bool>()).prop_map(|(neg, e, k, ones)| {
                (u32::from(neg) << 31) | e << 23 | if ones { 0x7f_ffff - k } else { 0 }
            }),
        ]
    }

    const MODES: [RoundingMode; 5] = [
        RoundingMode::Rne,
        RoundingMode::Rtz,
        RoundingMode::Rdn,
        RoundingMode::Rup,
        RoundingMode::Rmm,
    ];

    fn slow<F: Float + FloatConvert<W>, W: Float>(
        a: u128,
        b: u128,
        rm: RoundingMode,
        op: fn(F, F, Round) -> StatusAnd<F>,
        wide: fn(W, W, Round) -> StatusAnd<W>,
    ) -> (u128, Flags) {
        binary::<F, W>(a, b, rm, op, wide)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn fast_paths_agree_with_apfloat_f64(a in operand_f64(), b in operand_f64()) {
            for rm in MODES {
                if let Some((r, f)) = fast::add::<f64>(a, b, rm) {
                    let want = slow::<Double, WideDouble>(a.into(), b.into(), rm, |x, y, r| x.add_r(y, r), |x, y, r| x.add_r(y, r));
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::mul::<f64>(a, b, rm) {
                    let want = slow::<Double, WideDouble>(a.into(), b.into(), rm, |x, y, r| x.mul_r(y, r), |x, y, r| x.mul_r(y, r));
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::div::<f64>(a, b, rm) {
                    let want = slow::<Double, WideDouble>(a.into(), b.into(), rm, |x, y, r| x.div_r(y, r), |x, y, r| x.div_r(y, r));
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::sqrt::<f64>(a, rm) {
                    prop_assert_eq!((u128::from(r), f), square_root::<Double>(a.into(), rm), "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::narrow(a, rm) {
                    let x = Double::from_bits(a.into());
                    let n: StatusAnd<Single> = x.convert_r(rm.apfloat(), &mut false);
                    let want = finish(n, || {
                        let w: StatusAnd<WideSingle> = x.convert_r(rm.apfloat(), &mut false);
                        w.value
                    });
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
        }

        #[test]
        fn fma_fast_path_agrees_with_apfloat(
            a in operand_f64(),
            b in operand_f64(),
            c in operand_f64(),
            near in any::<bool>(),
        ) {
            // Half the time, make c nearly cancel the product.
            let c = if near {
                (-(f64::from_bits(a) * f64::from_bits(b))).to_bits() ^ (c & 7)
            } else {
                c
            };
            for rm in MODES {
                if let Some((r, f)) = fast::fma::<f64>(a, b, c, rm) {
                    let want = fused::<Double, WideDouble>(a.into(), b.into(), c.into(), rm, false, false);
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            let (a, b, c) = (a >> 32, b >> 32, c >> 32);
            for rm in MODES {
                if let Some((r, f)) = fast::fma::<f32>(a, b, c, rm) {
                    let want = fused::<Single, WideSingle>(a.into(), b.into(), c.into(), rm, false, false);
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
        }

        #[test]
        fn fast_paths_agree_with_apfloat_f32(a in operand_f32(), b in operand_f32()) {
            let (a, b) = (u64::from(a), u64::from(b));
            for rm in MODES {
                if let Some((r, f)) = fast::add::<f32>(a, b, rm) {
                    let want = slow::<Single, WideSingle>(a.into(), b.into(), rm, |x, y, r| x.add_r(y, r), |x, y, r| x.add_r(y, r));
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::mul::<f32>(a, b, rm) {
                    let want = slow::<Single, WideSingle>(a.into(), b.into(), rm, |x, y, r| x.mul_r(y, r), |x, y, r| x.mul_r(y, r));
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::div::<f32>(a, b, rm) {
                    let want = slow::<Single, WideSingle>(a.into(), b.into(), rm, |x, y, r| x.div_r(y, r), |x, y, r| x.div_r(y, r));
                    prop_assert_eq!((u128::from(r), f), want, "{:?}", rm);
                }
            }
            for rm in MODES {
                if let Some((r, f)) = fast::sqrt::<f32>(a, rm) {
                    prop_assert_eq!((u128::from(r), f), square_root::<Single>(a.into(), rm), "{:?}", rm);
                }
            }
        }

        #[test]
        fn integer_conversions_agree_with_apfloat(v in any::<i64>(), shift in 0u32..64, x in operand_f64()) {
            let v = v >> shift; // all magnitudes
            for rm in [RoundingMode::Rne, RoundingMode::Rtz, RoundingMode::Rdn, RoundingMode::Rup, RoundingMode::Rmm] {
                let r = Double::from_i128_r(v.into(), rm.apfloat());
                prop_assert_eq!(i64_to_f64(v, rm), (r.value.to_bits() as u64, flags_of(r.status)));
                let r = Single::from_i128_r(v.into(), rm.apfloat());
                prop_assert_eq!(i64_to_f32(v, rm), (r.value.to_bits() as u32, flags_of(r.status)));
                let r = Single::from_u128_r((v as u64).into(), rm.apfloat());
                prop_assert_eq!(u64_to_f32(v as u64, rm), (r.value.to_bits() as u32, flags_of(r.status)));
                // Integral rounding of floats.
                let f = Double::from_bits(x.into());
                if !f.is_nan() {
                    let r = f.round_to_integral(rm.apfloat());
                    let inexact = if r.status.contains(Status::INEXACT) { NX } else { 0 };
                    let (out, flags) = f64_to_i64(x, rm);
                    if flags & NV == 0 {
                        // `out` is the exact integer value of a binary64 number.
                        prop_assert_eq!(out as f64, f64::from_bits(r.value.to_bits() as u64));
                        prop_assert_eq!(flags, inexact);
                    }
                }
            }
        }
    }

    #[test]
    fn fast_paths_are_taken_for_ordinary_operands() {
        assert!(fast::add::<f64>(1.5f64.to_bits(), 2.25f64.to_bits(), RoundingMode::Rne).is_some());
        assert!(fast::mul::<f32>(
            3.0f32.to_bits().into(),
            0.1f32.to_bits().into(),
            RoundingMode::Rne
        )
        .is_some());
        assert!(fast::div::<f64>(1.0f64.to_bits(), 3.0f64.to_bits(), RoundingMode::Rne).is_some());
        assert!(fast::sqrt::<f64>(2.0f64.to_bits(), RoundingMode::Rne).is_some());
        assert!(fast::narrow(0.1f64.to_bits(), RoundingMode::Rne).is_some());
        let (x, y, z) = (1.1f64.to_bits(), 2.3f64.to_bits(), 0.7f64.to_bits());
        assert!(fast::fma::<f64>(x, y, z, RoundingMode::Rne).is_some());
        assert_eq!(
            fast::fma::<f64>(
                2f64.to_bits(),
                3f64.to_bits(),
                1f64.to_bits(),
                RoundingMode::Rne
            ),
            Some((7f64.to_bits(), 0))
        );
        // …and not for the cases that need apfloat's flags.
        assert!(
            fast::add::<f64>(f64::MAX.to_bits(), f64::MAX.to_bits(), RoundingMode::Rne).is_none()
        );
        assert!(
            fast::mul::<f64>(1e-200f64.to_bits(), 1e-200f64.to_bits(), RoundingMode::Rne).is_none()
        );
        assert!(fast::div::<f64>(1.0f64.to_bits(), 0, RoundingMode::Rne).is_none());
        assert!(fast::sqrt::<f64>((-1.0f64).to_bits(), RoundingMode::Rne).is_none());
        assert!(
            fast::add::<f32>(1, 1, RoundingMode::Rne).is_none(),
            "subnormal operands"
        );
        // Directed modes are served too; RMM (ties) is not.
        let (one, third) = (1.0f64.to_bits(), 3.0f64.to_bits());
        assert_eq!(
            fast::div::<f64>(one, third, RoundingMode::Rup),
            Some(((1.0f64 / 3.0).to_bits() + 1, NX))
        );
        assert_eq!(
            fast::div::<f64>(one, third, RoundingMode::Rtz),
            Some(((1.0f64 / 3.0).to_bits(), NX))
        );
        assert!(fast::div::<f64>(one, third, RoundingMode::Rmm).is_none());
        assert_eq!(
            fast::div::<f64>(one, 4.0f64.to_bits(), RoundingMode::Rmm),
            Some((0.25f64.to_bits(), 0))
        );
    }
}
