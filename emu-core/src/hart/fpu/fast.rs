//! Fast paths on the host FPU for the common case: normal or zero operands and a result that
//! is neither NaN, infinite, subnormal, ±2^emin nor ±max-finite. The host computes the
//! round-to-nearest-even result `r`; then no UF/OF/DZ/NV can arise, and how the exact value
//! compares with `r` in magnitude is decided exactly from the operands (an error-free TwoSum
//! for addition, 128-bit integer significand products for multiplication, division and square
//! root, a 128-bit integer residual for fma). That comparison gives NX and, since the exact
//! value lies within half an ulp of `r`, the RTZ/RDN/RUP result: `r` or its neighbour on the
//! exact value's side. RMM, which needs to tell ties apart, and anything else return `None`
//! and go through apfloat.

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
