//! Property tests of `emu_core::hart::fpu` against independent oracles:
//! - the host's native f32/f64 arithmetic, which is IEEE round-to-nearest-even and correctly
//!   rounded for + − × ÷ √ and fused multiply-add (results only: the host gives no flags);
//! - for binary32 multiplication and binary64→binary32 conversion, whose exact value is a
//!   binary64 number, a reference rounding in every mode derived from the host's RNE conversion,
//!   including the NX, UF (tininess after rounding) and OF flags;
//! - for every operation in both formats, the consistency of the five rounding modes with each
//!   other (RDN ≤ RNE ≤ RUP, adjacent when inexact, RTZ/RMM on the right side) and with NX.
//!
//! Operands mix uniformly random bit patterns with values near the subnormal boundary, near
//! overflow, near 1 and the special values.

use emu_core::hart::fpu::RoundingMode::{Rdn, Rmm, Rne, Rtz, Rup};
use emu_core::hart::fpu::*;
use proptest::prelude::*;

const ALL_MODES: [RoundingMode; 5] = [Rne, Rtz, Rdn, Rup, Rmm];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        ..ProptestConfig::default()
    }
}

// ---- operand strategies ----------------------------------------------------------------------

/// A binary32 bit pattern with a biased exponent in `exp` and a random or nearly-all-ones
/// significand (those round up across binade boundaries).
fn f32_in(exp: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = u32> {
    let significand = prop_oneof![
        any::<u32>(),
        (0u32..16).prop_map(|k| 0x7f_ffff - k),
        0u32..16
    ];
    (any::<bool>(), exp, significand)
        .prop_map(|(neg, e, m)| (u32::from(neg) << 31) | (e << 23) | (m & 0x7f_ffff))
}

fn f64_in(exp: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = u64> {
    let significand = prop_oneof![
        any::<u64>(),
        (0u64..16).prop_map(|k| 0xf_ffff_ffff_ffff - k),
        0u64..16
    ];
    (any::<bool>(), exp, significand)
        .prop_map(|(neg, e, m)| (u64::from(neg) << 63) | (e << 52) | (m & 0xf_ffff_ffff_ffff))
}

fn any_f32() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => any::<u32>(),
        2 => f32_in(0..=3),
        2 => f32_in(120..=134),
        2 => f32_in(250..=254),
        1 => prop::sample::select(vec![
            0u32, 0x8000_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0x7f80_0001, 0x0080_0000,
            0x7f7f_ffff, 1, 0x3f80_0000, 0xbf80_0000,
        ]),
    ]
}

fn any_f64() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        2 => f64_in(0..=3),
        2 => f64_in(1015..=1031),
        2 => f64_in(2040..=2046),
        1 => prop::sample::select(vec![
            0u64, 1 << 63, 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000,
            0x7ff8_0000_0000_0000, 0x7ff0_0000_0000_0001, 0x0010_0000_0000_0000,
            0x7fef_ffff_ffff_ffff, 1, 0x3ff0_0000_0000_0000,
        ]),
    ]
}

/// Two binary32 operands whose product lies near `2^target` (unbiased).
fn f32_pair_with_product_near(target: i32) -> impl Strategy<Value = (u32, u32)> {
    (1u32..=254, -3i32..=3).prop_flat_map(move |(ea, slack)| {
        let eb = (target + 254 - ea as i32 + slack).clamp(0, 254) as u32;
        (f32_in(ea..=ea), f32_in(eb..=eb))
    })
}

/// Two binary32 operands whose product is 2^-126 − k·2^-150 for a small k (k = 1: the tie that
/// rounds up to 2^-126 yet is tiny after rounding): (2 − k·2^-23)·2^(e−127) times 2^-e.
fn f32_pair_with_product_just_below_min_normal() -> impl Strategy<Value = (u32, u32)> {
    (1u32..=127, 0u32..8, any::<bool>(), any::<bool>()).prop_map(|(e, k, sa, sb)| {
        let a = (u32::from(sa) << 31) | (e << 23) | (0x7f_ffff - k);
        let b_magnitude = if e == 127 {
            0x0040_0000
        } else {
            (127 - e) << 23
        };
        (a, (u32::from(sb) << 31) | b_magnitude)
    })
}

// ---- helpers ---------------------------------------------------------------------------------

fn host_s(bits: u32) -> u32 {
    let x = f32::from_bits(bits);
    if x.is_nan() {
        CANONICAL_NAN_F32
    } else {
        bits
    }
}

fn host_d(bits: u64) -> u64 {
    let x = f64::from_bits(bits);
    if x.is_nan() {
        CANONICAL_NAN_F64
    } else {
        bits
    }
}

fn is_nan_s(bits: u32) -> bool {
    f32::from_bits(bits).is_nan()
}
fn is_nan_d(bits: u64) -> bool {
    f64::from_bits(bits).is_nan()
}

/// One mode's result: raw bits, position in the ordering of all values (±0 share 0), NaN-ness.
#[derive(Debug, Clone, Copy)]
struct Res {
    bits: u64,
    key: i128,
    nan: bool,
    flags: Flags,
}

fn res_s((bits, flags): (u32, Flags)) -> Res {
    let magnitude = i128::from(bits & 0x7fff_ffff);
    Res {
        bits: bits.into(),
        key: if bits >> 31 == 1 {
            -magnitude
        } else {
            magnitude
        },
        nan: is_nan_s(bits),
        flags,
    }
}

fn res_d((bits, flags): (u64, Flags)) -> Res {
    let magnitude = i128::from(bits & 0x7fff_ffff_ffff_ffff);
    Res {
        bits,
        key: if bits >> 63 == 1 {
            -magnitude
        } else {
            magnitude
        },
        nan: is_nan_d(bits),
        flags,
    }
}

/// Checks the five rounding modes' results of one operation (in `ALL_MODES` order) against
/// each other: RDN ≤ RNE, RMM ≤ RUP, RDN and RUP adjacent, NX exactly when they differ, exact
/// results identical in every mode, RTZ the one of RDN/RUP nearer zero, NaN and NV alike.
fn check_modes(results: [Res; 5]) -> Result<(), TestCaseError> {
    let [rne, rtz, rdn, rup, rmm] = results;
    if rne.nan {
        for r in results {
            prop_assert!(r.nan, "NaN in RNE but not in every mode: {results:?}");
            prop_assert_eq!(r.bits, rne.bits, "{:?}", results);
            prop_assert_eq!(r.flags, rne.flags, "{:?}", results);
        }
        return Ok(());
    }
    prop_assert!(
        rdn.key <= rne.key && rne.key <= rup.key,
        "RDN ≤ RNE ≤ RUP: {results:?}"
    );
    prop_assert!(
        rdn.key <= rmm.key && rmm.key <= rup.key,
        "RDN ≤ RMM ≤ RUP: {results:?}"
    );
    prop_assert!(rup.key - rdn.key <= 1, "RDN and RUP adjacent: {results:?}");
    let exact = rne.flags & NX == 0;
    for r in results {
        prop_assert_eq!(
            r.flags & NX == 0,
            exact,
            "NX in every mode or none: {:?}",
            results
        );
        // DZ and NV do not depend on the rounding mode.
        prop_assert_eq!(r.flags & (DZ | NV), rne.flags & (DZ | NV), "{:?}", results);
    }
    if exact {
        prop_assert_eq!(rdn.key, rup.key, "exact but RDN ≠ RUP: {:?}", results);
        for r in [rtz, rdn, rup, rmm] {
            // x − x = −0 only in RDN: compare bits except for zero results.
            if r.key != 0 {
                prop_assert_eq!(r.bits, rne.bits, "exact results agree: {:?}", results);
            }
            prop_assert_eq!(r.flags, rne.flags, "{:?}", results);
        }
    } else {
        prop_assert_eq!(rup.key - rdn.key, 1, "inexact but RDN = RUP: {:?}", results);
        let toward_zero = if rdn.key >= 0 { rdn.key } else { rup.key };
        prop_assert_eq!(rtz.key, toward_zero, "RTZ: {:?}", results);
    }
    Ok(())
}

fn modes_s(op: impl Fn(RoundingMode) -> (u32, Flags)) -> [Res; 5] {
    ALL_MODES.map(|rm| res_s(op(rm)))
}

fn modes_d(op: impl Fn(RoundingMode) -> (u64, Flags)) -> [Res; 5] {
    ALL_MODES.map(|rm| res_d(op(rm)))
}

/// Reference rounding of an exact value `p` (a binary64 number) to binary32 in mode `rm`,
/// built from the host's RNE conversion. Returns the result and NX/UF/OF as IEEE 754-2019
/// §7.4–7.6 define them with tininess after rounding.
fn reference_f32(p: f64, rm: RoundingMode) -> (u32, Flags) {
    assert!(p.is_finite());
    let rounded = round_to_f32_grid(p, rm);
    if rounded as f64 == p {
        return (rounded.to_bits(), 0);
    }
    let mut flags = NX;
    // Unbounded-exponent rounding to 24 bits: scale into the normal range first (exact).
    if p.abs() < 2f64.powi(-100) {
        let scaled = round_to_f32_grid(p * 2f64.powi(200), rm);
        if scaled.abs() < 2f32.powi(74) {
            flags |= UF;
        }
    }
    if p.abs() > 2f64.powi(100) {
        let scaled = round_to_f32_grid(p * 2f64.powi(-128), rm);
        if scaled.abs() as f64 > f32::MAX as f64 * 2f64.powi(-128) {
            flags |= OF;
        }
    }
    (rounded.to_bits(), flags)
}

/// `p` rounded to binary32 in mode `rm` (value only).
fn round_to_f32_grid(p: f64, rm: RoundingMode) -> f32 {
    let nearest = p as f32; // host: round to nearest, ties to even
    if nearest as f64 == p {
        return nearest;
    }
    let (below, above) = if (nearest as f64) < p {
        (nearest, next_up(nearest))
    } else {
        (next_down(nearest), nearest)
    };
    // Treat ±∞ as ±2^128 for the midpoint test.
    let value = |x: f32| {
        if x.is_infinite() {
            2f64.powi(128).copysign(x as f64)
        } else {
            x as f64
        }
    };
    match rm {
        Rne => nearest,
        Rdn => below,
        Rup => above,
        Rtz => {
            if p > 0.0 {
                below
            } else {
                above
            }
        }
        Rmm => {
            let midpoint = (value(below) + value(above)) / 2.0;
            if midpoint == p {
                if p > 0.0 {
                    above
                } else {
                    below
                }
            } else {
                nearest
            }
        }
    }
}

fn next_up(x: f32) -> f32 {
    let bits = x.to_bits();
    if x == 0.0 {
        f32::from_bits(1)
    } else if bits >> 31 == 0 {
        f32::from_bits(bits + 1)
    } else {
        f32::from_bits(bits - 1)
    }
}

fn next_down(x: f32) -> f32 {
    -next_up(-x)
}

// ---- host RNE cross-checks -------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn f32_arith_matches_host_rne(a in any_f32(), b in any_f32(), c in any_f32()) {
        let (x, y, z) = (f32::from_bits(a), f32::from_bits(b), f32::from_bits(c));
        prop_assert_eq!(add_f32(a, b, Rne).0, host_s((x + y).to_bits()));
        prop_assert_eq!(sub_f32(a, b, Rne).0, host_s((x - y).to_bits()));
        prop_assert_eq!(mul_f32(a, b, Rne).0, host_s((x * y).to_bits()));
        prop_assert_eq!(div_f32(a, b, Rne).0, host_s((x / y).to_bits()));
        prop_assert_eq!(sqrt_f32(a, Rne).0, host_s(x.sqrt().to_bits()));
        prop_assert_eq!(fma_f32(a, b, c, Rne, false, false).0, host_s(x.mul_add(y, z).to_bits()));
        prop_assert_eq!(fma_f32(a, b, c, Rne, false, true).0, host_s(x.mul_add(y, -z).to_bits()));
        prop_assert_eq!(fma_f32(a, b, c, Rne, true, false).0, host_s((-x).mul_add(y, z).to_bits()));
        prop_assert_eq!(fma_f32(a, b, c, Rne, true, true).0, host_s((-x).mul_add(y, -z).to_bits()));
    }

    #[test]
    fn f64_arith_matches_host_rne(a in any_f64(), b in any_f64(), c in any_f64()) {
        let (x, y, z) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
        prop_assert_eq!(add_f64(a, b, Rne).0, host_d((x + y).to_bits()));
        prop_assert_eq!(sub_f64(a, b, Rne).0, host_d((x - y).to_bits()));
        prop_assert_eq!(mul_f64(a, b, Rne).0, host_d((x * y).to_bits()));
        prop_assert_eq!(div_f64(a, b, Rne).0, host_d((x / y).to_bits()));
        prop_assert_eq!(sqrt_f64(a, Rne).0, host_d(x.sqrt().to_bits()));
        prop_assert_eq!(fma_f64(a, b, c, Rne, false, false).0, host_d(x.mul_add(y, z).to_bits()));
        prop_assert_eq!(fma_f64(a, b, c, Rne, false, true).0, host_d(x.mul_add(y, -z).to_bits()));
        prop_assert_eq!(fma_f64(a, b, c, Rne, true, false).0, host_d((-x).mul_add(y, z).to_bits()));
        prop_assert_eq!(fma_f64(a, b, c, Rne, true, true).0, host_d((-x).mul_add(y, -z).to_bits()));
    }

    #[test]
    fn fma_near_cancellation_matches_host(a in any_f64(), b in any_f64(), tweak in -3i64..=3) {
        // c ≈ −a·b so that the fused result is dominated by the product's rounding error.
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let c = (-(x * y)).to_bits().wrapping_add(tweak as u64);
        let z = f64::from_bits(c);
        prop_assert_eq!(fma_f64(a, b, c, Rne, false, false).0, host_d(x.mul_add(y, z).to_bits()));
        let (a32, b32) = (a as u32, b as u32);
        let (x32, y32) = (f32::from_bits(a32), f32::from_bits(b32));
        let c32 = (-(x32 * y32)).to_bits().wrapping_add(tweak as u32);
        let z32 = f32::from_bits(c32);
        prop_assert_eq!(
            fma_f32(a32, b32, c32, Rne, false, false).0,
            host_s(x32.mul_add(y32, z32).to_bits())
        );
    }

    #[test]
    fn conversions_match_host(a in any_f32(), b in any_f64(), i in any::<i64>(), u in any::<u64>()) {
        let (x, y) = (f32::from_bits(a), f64::from_bits(b));
        prop_assert_eq!(f32_to_f64(a).0, host_d((x as f64).to_bits()));
        prop_assert_eq!(f64_to_f32(b, Rne).0, host_s((y as f32).to_bits()));
        prop_assert_eq!(i64_to_f32(i, Rne).0, (i as f32).to_bits());
        prop_assert_eq!(i64_to_f64(i, Rne).0, (i as f64).to_bits());
        prop_assert_eq!(u64_to_f32(u, Rne).0, (u as f32).to_bits());
        prop_assert_eq!(u64_to_f64(u, Rne).0, (u as f64).to_bits());
        prop_assert_eq!(i32_to_f32(i as i32, Rne).0, (i as i32 as f32).to_bits());
        prop_assert_eq!(u32_to_f32(u as u32, Rne).0, (u as u32 as f32).to_bits());
        // Rust's `as` truncates and saturates exactly like RTZ fcvt for non-NaN inputs.
        if !x.is_nan() {
            prop_assert_eq!(f32_to_i32(a, Rtz).0, x as i32);
            prop_assert_eq!(f32_to_u32(a, Rtz).0, x as u32);
            prop_assert_eq!(f32_to_i64(a, Rtz).0, x as i64);
            prop_assert_eq!(f32_to_u64(a, Rtz).0, x as u64);
        }
        if !y.is_nan() {
            prop_assert_eq!(f64_to_i32(b, Rtz).0, y as i32);
            prop_assert_eq!(f64_to_u32(b, Rtz).0, y as u32);
            prop_assert_eq!(f64_to_i64(b, Rtz).0, y as i64);
            prop_assert_eq!(f64_to_u64(b, Rtz).0, y as u64);
            // Other modes: the host's rounding to an integral value, then saturation.
            for (rm, integral) in [
                (Rne, y.round_ties_even()),
                (Rdn, y.floor()),
                (Rup, y.ceil()),
                (Rmm, y.round()),
            ] {
                let inexact = if integral != y { NX } else { 0 };
                let (v, f) = f64_to_i64(b, rm);
                if integral >= -(2f64.powi(63)) && integral < 2f64.powi(63) {
                    prop_assert_eq!((v, f), (integral as i64, inexact), "{:?}", rm);
                } else {
                    prop_assert_eq!((v, f), (integral as i64, NV), "{:?}", rm);
                }
                let (v, f) = f64_to_u32(b, rm);
                if integral > -1.0 && integral < 2f64.powi(32) {
                    prop_assert_eq!((v, f), (integral as u32, inexact), "{:?}", rm);
                } else {
                    prop_assert_eq!((v, f), (integral as u32, NV), "{:?}", rm);
                }
            }
        }
    }

    #[test]
    fn f32_flags_match_host_exactness(a in any_f32(), b in any_f32()) {
        let (x, y) = (f32::from_bits(a), f32::from_bits(b));
        // Quotient: exact iff r·b = a (the product is exact in binary64).
        let (r, f) = div_f32(a, b, Rne);
        let q = f32::from_bits(r);
        if x.is_finite() && y.is_finite() && y != 0.0 && q != 0.0 && q.is_finite() {
            let exact = q as f64 * y as f64 == x as f64;
            prop_assert_eq!(f & NX == 0, exact, "{} / {} = {}", x, y, q);
        }
        // Square root: exact iff r² = a.
        let (r, f) = sqrt_f32(a, Rne);
        let root = f32::from_bits(r);
        if x.is_finite() && x > 0.0 {
            prop_assert_eq!(f & NX == 0, root as f64 * root as f64 == x as f64);
            prop_assert_eq!(f & !NX, 0);
        }
        // Invalid and divide-by-zero against the IEEE definitions.
        let nan_in = x.is_nan() || y.is_nan();
        let snan = |v: u32| f32::from_bits(v).is_nan() && v & 0x0040_0000 == 0;
        let (_, f) = add_f32(a, b, Rne);
        let invalid = snan(a) || snan(b) || (!nan_in && x.is_infinite() && y.is_infinite() && x != y);
        prop_assert_eq!(f & NV != 0, invalid);
        let (_, f) = div_f32(a, b, Rne);
        let invalid = snan(a) || snan(b)
            || (!nan_in && ((x == 0.0 && y == 0.0) || (x.is_infinite() && y.is_infinite())));
        prop_assert_eq!(f & NV != 0, invalid);
        prop_assert_eq!(f & DZ != 0, !nan_in && y == 0.0 && x != 0.0 && x.is_finite());
    }
}

// ---- every rounding mode, with flags, against a reference ------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn f32_mul_every_mode_and_flag(
        (a, b) in prop_oneof![
            (any_f32(), any_f32()),
            f32_pair_with_product_near(-126),
            f32_pair_with_product_near(-149),
            f32_pair_with_product_near(127),
            f32_pair_with_product_just_below_min_normal(),
        ]
    ) {
        let (x, y) = (f32::from_bits(a), f32::from_bits(b));
        prop_assume!(x.is_finite() && y.is_finite());
        let p = x as f64 * y as f64; // exact
        for rm in ALL_MODES {
            prop_assert_eq!(mul_f32(a, b, rm), reference_f32(p, rm), "{} · {} {:?}", x, y, rm);
        }
    }

    #[test]
    fn f32_add_every_mode_and_flag(
        (e, gap, sa, sb, ma, mb, swap, subtract) in (
            prop_oneof![0u32..=254, 248u32..=254, 0u32..=4],
            0u32..=26,
            any::<bool>(),
            any::<bool>(),
            prop_oneof![any::<u32>(), (0u32..8).prop_map(|k| 0x7f_ffff - k)],
            prop_oneof![any::<u32>(), (0u32..8).prop_map(|k| 0x7f_ffff - k)],
            any::<bool>(),
            any::<bool>(),
        )
    ) {
        // Exponents at most 26 apart: the exact sum fits binary64's 53 bits.
        let big = (u32::from(sa) << 31) | (e << 23) | (ma & 0x7f_ffff);
        let small = (u32::from(sb) << 31) | (e.saturating_sub(gap) << 23) | (mb & 0x7f_ffff);
        let (a, b) = if swap { (small, big) } else { (big, small) };
        let (x, y) = (f32::from_bits(a), f32::from_bits(b));
        let p = if subtract { x as f64 - y as f64 } else { x as f64 + y as f64 };
        prop_assume!(p != 0.0); // the sign of an exact zero sum is checked in fpu_edge_cases
        for rm in ALL_MODES {
            let got = if subtract { sub_f32(a, b, rm) } else { add_f32(a, b, rm) };
            let op = if subtract { '-' } else { '+' };
            prop_assert_eq!(got, reference_f32(p, rm), "{} {} {} {:?}", x, op, y, rm);
        }
    }

    #[test]
    fn f64_to_f32_every_mode_and_flag(
        b in prop_oneof![
            any_f64(),
            f64_in(1023 - 152..=1023 - 124),
            f64_in(1023 + 125..=1023 + 129),
        ]
    ) {
        let y = f64::from_bits(b);
        prop_assume!(y.is_finite());
        for rm in ALL_MODES {
            prop_assert_eq!(f64_to_f32(b, rm), reference_f32(y, rm), "{} {:?}", y, rm);
        }
    }

    #[test]
    fn f32_modes_consistent(a in any_f32(), b in any_f32(), c in any_f32()) {
        check_modes(modes_s(|rm| add_f32(a, b, rm)))?;
        check_modes(modes_s(|rm| sub_f32(a, b, rm)))?;
        check_modes(modes_s(|rm| mul_f32(a, b, rm)))?;
        check_modes(modes_s(|rm| div_f32(a, b, rm)))?;
        check_modes(modes_s(|rm| sqrt_f32(a, rm)))?;
        check_modes(modes_s(|rm| fma_f32(a, b, c, rm, false, false)))?;
        check_modes(modes_s(|rm| fma_f32(a, b, c, rm, true, false)))?;
    }

    #[test]
    fn f64_modes_consistent(a in any_f64(), b in any_f64(), c in any_f64()) {
        check_modes(modes_d(|rm| add_f64(a, b, rm)))?;
        check_modes(modes_d(|rm| sub_f64(a, b, rm)))?;
        check_modes(modes_d(|rm| mul_f64(a, b, rm)))?;
        check_modes(modes_d(|rm| div_f64(a, b, rm)))?;
        check_modes(modes_d(|rm| sqrt_f64(a, rm)))?;
        check_modes(modes_d(|rm| fma_f64(a, b, c, rm, false, false)))?;
        check_modes(modes_d(|rm| fma_f64(a, b, c, rm, false, true)))?;
        check_modes(modes_s(|rm| f64_to_f32(a, rm)))?;
    }

    #[test]
    fn int_to_float_modes_consistent(i in any::<i64>(), u in any::<u64>()) {
        check_modes(modes_s(|rm| i64_to_f32(i, rm)))?;
        check_modes(modes_s(|rm| u64_to_f32(u, rm)))?;
        check_modes(modes_d(|rm| i64_to_f64(i, rm)))?;
        check_modes(modes_d(|rm| u64_to_f64(u, rm)))?;
        check_modes(modes_s(|rm| i32_to_f32(i as i32, rm)))?;
        check_modes(modes_s(|rm| u32_to_f32(u as u32, rm)))?;
    }

    #[test]
    fn min_max_compare_against_host(a in any_f64(), b in any_f64()) {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let (lo, _) = min_f64(a, b);
        let (hi, _) = max_f64(a, b);
        if x.is_nan() && y.is_nan() {
            prop_assert_eq!((lo, hi), (CANONICAL_NAN_F64, CANONICAL_NAN_F64));
        } else {
            // Host min/max return the non-NaN operand; ±0 are told apart by total order.
            let total_lo = if x.total_cmp(&y).is_le() { x } else { y };
            let total_hi = if x.total_cmp(&y).is_ge() { x } else { y };
            prop_assert_eq!(f64::from_bits(lo), x.min(y));
            prop_assert_eq!(f64::from_bits(hi), x.max(y));
            if !x.is_nan() && !y.is_nan() {
                prop_assert_eq!(lo, total_lo.to_bits());
                prop_assert_eq!(hi, total_hi.to_bits());
            }
        }
        let qn = |v: u64| f64::from_bits(v).is_nan();
        prop_assert_eq!(eq_f64(a, b).0, x == y);
        prop_assert_eq!(lt_f64(a, b), (x < y, if qn(a) || qn(b) { NV } else { 0 }));
        prop_assert_eq!(le_f64(a, b), (x <= y, if qn(a) || qn(b) { NV } else { 0 }));
        let (a32, b32) = (a as u32, b as u32);
        let (x32, y32) = (f32::from_bits(a32), f32::from_bits(b32));
        prop_assert_eq!(eq_f32(a32, b32).0, x32 == y32);
        prop_assert_eq!(lt_f32(a32, b32).0, x32 < y32);
        if !x32.is_nan() || !y32.is_nan() {
            prop_assert_eq!(f32::from_bits(min_f32(a32, b32).0), x32.min(y32));
            prop_assert_eq!(f32::from_bits(max_f32(a32, b32).0), x32.max(y32));
        }
    }

    #[test]
    fn fclass_sets_one_bit_matching_host(a in any_f64()) {
        let x = f64::from_bits(a);
        let class = class_f64(a);
        prop_assert_eq!(class.count_ones(), 1);
        let bit = class.trailing_zeros();
        use std::num::FpCategory::*;
        let want = match (x.classify(), x.is_sign_negative()) {
            (Nan, _) => if a & (1 << 51) == 0 { 8 } else { 9 },
            (Infinite, true) => 0,
            (Normal, true) => 1,
            (Subnormal, true) => 2,
            (Zero, true) => 3,
            (Zero, false) => 4,
            (Subnormal, false) => 5,
            (Normal, false) => 6,
            (Infinite, false) => 7,
        };
        prop_assert_eq!(bit, want);
        let a32 = a as u32;
        let x32 = f32::from_bits(a32);
        let bit32 = class_f32(a32).trailing_zeros();
        prop_assert_eq!(class_f32(a32).count_ones(), 1);
        prop_assert_eq!(bit32 == 1 || bit32 == 6, x32.is_normal());
        prop_assert_eq!(bit32 >= 8, x32.is_nan());
    }
}

/// Sums and differences next to the overflow threshold in every mode, against the reference:
/// operands of magnitude up to max-finite whose rounded sum lies in the top binade (where an
/// error-free-transformation shortcut would itself overflow).
#[test]
fn f32_add_near_overflow_every_mode() {
    let significands = [
        0u32, 1, 2, 0x2d_f173, 0x40_0000, 0x40_0001, 0x7f_fffe, 0x7f_ffff,
    ];
    let mut checked = 0;
    for k in 0..4 {
        let big = 0x7f7f_ffff - k; // max-finite − k ulp
        for exponent in 250..=254 {
            for m in significands {
                let other = exponent << 23 | m;
                for (a, b) in [(big, other), (other, big)] {
                    for signs in 0..4u32 {
                        let a = a | (signs & 1) << 31;
                        let b = b | (signs >> 1) << 31;
                        let (x, y) = (f32::from_bits(a) as f64, f32::from_bits(b) as f64);
                        for (p, op) in [(x + y, "+"), (x - y, "-")] {
                            if p == 0.0 {
                                continue;
                            }
                            for rm in ALL_MODES {
                                let got = if op == "+" {
                                    add_f32(a, b, rm)
                                } else {
                                    sub_f32(a, b, rm)
                                };
                                assert_eq!(got, reference_f32(p, rm), "{a:#x} {op} {b:#x} {rm:?}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 5000);
}
