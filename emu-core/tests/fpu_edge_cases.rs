//! Edge cases of the F/D arithmetic module (`emu_core::hart::fpu`) written from the RISC-V
//! Unprivileged ISA 20191213 ch. 11–12 and IEEE 754-2019: rounding of ties in every mode,
//! overflow and underflow (tininess after rounding), signed zeros, NaN canonicalisation,
//! division by zero, fused multiply-add, saturating conversions, fclass, fmin/fmax, compares.

use emu_core::hart::fpu::RoundingMode::{Rdn, Rmm, Rne, Rtz, Rup};
use emu_core::hart::fpu::*;

const ALL_MODES: [RoundingMode; 5] = [Rne, Rtz, Rdn, Rup, Rmm];

fn s(x: f32) -> u32 {
    x.to_bits()
}
fn d(x: f64) -> u64 {
    x.to_bits()
}
/// 2^e as binary32 (normal range).
fn p2s(e: i32) -> f32 {
    assert!((-126..=127).contains(&e));
    f32::from_bits(((e + 127) as u32) << 23)
}
/// 2^e as binary64 (normal range).
fn p2d(e: i32) -> f64 {
    assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

const QNAN_S: u32 = 0x7fc0_1234; // quiet NaN with a payload
const SNAN_S: u32 = 0x7f80_0001;
const NEG_QNAN_S: u32 = 0xffc0_0000;
const QNAN_D: u64 = 0x7ff8_0000_0000_1234;
const SNAN_D: u64 = 0x7ff0_0000_0000_0001;
const MAX_S: u32 = 0x7f7f_ffff;
const INF_S: u32 = 0x7f80_0000;
const MIN_NORMAL_S: u32 = 0x0080_0000;
const MAX_D: u64 = 0x7fef_ffff_ffff_ffff;
const INF_D: u64 = 0x7ff0_0000_0000_0000;
const MIN_NORMAL_D: u64 = 0x0010_0000_0000_0000;

#[test]
fn rounding_mode_encodings() {
    assert_eq!(RoundingMode::from_bits(0), Some(Rne));
    assert_eq!(RoundingMode::from_bits(1), Some(Rtz));
    assert_eq!(RoundingMode::from_bits(2), Some(Rdn));
    assert_eq!(RoundingMode::from_bits(3), Some(Rup));
    assert_eq!(RoundingMode::from_bits(4), Some(Rmm));
    for reserved in 5..8 {
        assert_eq!(RoundingMode::from_bits(reserved), None);
    }
}

#[test]
fn add_ties_in_every_mode_f32() {
    let one = s(1.0);
    let one_up = one + 1; // 1 + 2^-23
    let half_ulp = s(p2s(-24));
    // 1 + 2^-24: exactly between 1 (even) and 1 + 2^-23 (odd).
    let expect = [
        (Rne, one),
        (Rtz, one),
        (Rdn, one),
        (Rup, one_up),
        (Rmm, one_up),
    ];
    for (rm, want) in expect {
        assert_eq!(add_f32(one, half_ulp, rm), (want, NX), "{rm:?}");
    }
    // −1 − 2^-24: the mirror image.
    let neg = |x: u32| x | 0x8000_0000;
    let expect = [
        (Rne, one),
        (Rtz, one),
        (Rdn, one_up),
        (Rup, one),
        (Rmm, one_up),
    ];
    for (rm, want) in expect {
        assert_eq!(
            add_f32(neg(one), neg(half_ulp), rm),
            (neg(want), NX),
            "{rm:?}"
        );
    }
    // (1 + 2^-23) + 2^-24: between an odd and an even neighbour: RNE rounds up to the even one.
    assert_eq!(add_f32(one_up, half_ulp, Rne), (one_up + 1, NX));
    assert_eq!(add_f32(one_up, half_ulp, Rmm), (one_up + 1, NX));
    assert_eq!(add_f32(one_up, half_ulp, Rtz), (one_up, NX));
    // 1 + 0.75·2^-23: not a tie, nearer the upper neighbour.
    let three_quarters = s(3.0 * p2s(-25));
    let expect = [
        (Rne, one_up),
        (Rtz, one),
        (Rdn, one),
        (Rup, one_up),
        (Rmm, one_up),
    ];
    for (rm, want) in expect {
        assert_eq!(add_f32(one, three_quarters, rm), (want, NX), "{rm:?}");
    }
    // Exact sums raise nothing in any mode.
    for rm in ALL_MODES {
        assert_eq!(add_f32(s(1.5), s(2.25), rm), (s(3.75), 0));
    }
}

#[test]
fn add_ties_in_every_mode_f64() {
    let one = d(1.0);
    let one_up = one + 1;
    let half_ulp = d(p2d(-53));
    let expect = [
        (Rne, one),
        (Rtz, one),
        (Rdn, one),
        (Rup, one_up),
        (Rmm, one_up),
    ];
    for (rm, want) in expect {
        assert_eq!(add_f64(one, half_ulp, rm), (want, NX), "{rm:?}");
    }
    let neg = |x: u64| x | 1 << 63;
    let expect = [
        (Rne, one),
        (Rtz, one),
        (Rdn, one_up),
        (Rup, one),
        (Rmm, one_up),
    ];
    for (rm, want) in expect {
        assert_eq!(sub_f64(neg(one), half_ulp, rm), (neg(want), NX), "{rm:?}");
    }
    assert_eq!(add_f64(one_up, half_ulp, Rne), (one_up + 1, NX));
}

#[test]
fn mul_and_div_round_per_mode() {
    // 1/3 in binary32: 0x3eaaaaab in RNE/RUP/RMM (the tail is 0.101…b > ½ ulp), 0x3eaaaaaa down.
    let expect = [
        (Rne, 0x3eaa_aaab),
        (Rtz, 0x3eaa_aaaa),
        (Rdn, 0x3eaa_aaaa),
        (Rup, 0x3eaa_aaab),
        (Rmm, 0x3eaa_aaab),
    ];
    for (rm, want) in expect {
        assert_eq!(div_f32(s(1.0), s(3.0), rm), (want, NX), "{rm:?}");
        assert_eq!(div_f32(s(-1.0), s(3.0), rm).0 & 0x7fff_ffff, {
            // the negative quotient rounds the other way for the directed modes
            match rm {
                Rdn => 0x3eaa_aaab,
                Rup => 0x3eaa_aaaa,
                _ => want,
            }
        });
    }
    // (1 + 2^-23)² = 1 + 2^-22 + 2^-46: rounds to 1 + 2^-22 except upwards.
    let a = s(1.0) + 1;
    assert_eq!(mul_f32(a, a, Rne), (s(1.0) + 2, NX));
    assert_eq!(mul_f32(a, a, Rup), (s(1.0) + 3, NX));
    assert_eq!(mul_f32(a, a, Rtz), (s(1.0) + 2, NX));
    assert_eq!(mul_f64(d(3.0), d(0.5), Rne), (d(1.5), 0));
    assert_eq!(div_f64(d(1.0), d(3.0), Rne), (d(1.0 / 3.0), NX));
    assert_eq!(div_f64(d(1.0), d(3.0), Rup), (d(1.0 / 3.0) + 1, NX));
}

#[test]
fn overflow_gives_infinity_or_max_finite_per_mode() {
    let two = s(2.0);
    let neg = |x: u32| x | 0x8000_0000;
    let expect = [
        (Rne, INF_S),
        (Rtz, MAX_S),
        (Rdn, MAX_S),
        (Rup, INF_S),
        (Rmm, INF_S),
    ];
    for (rm, want) in expect {
        assert_eq!(mul_f32(MAX_S, two, rm), (want, OF | NX), "{rm:?}");
    }
    let expect = [
        (Rne, INF_S),
        (Rtz, MAX_S),
        (Rdn, INF_S),
        (Rup, MAX_S),
        (Rmm, INF_S),
    ];
    for (rm, want) in expect {
        assert_eq!(mul_f32(neg(MAX_S), two, rm), (neg(want), OF | NX), "{rm:?}");
    }
    let expect = [
        (Rne, INF_D),
        (Rtz, MAX_D),
        (Rdn, MAX_D),
        (Rup, INF_D),
        (Rmm, INF_D),
    ];
    for (rm, want) in expect {
        assert_eq!(add_f64(MAX_D, MAX_D, rm), (want, OF | NX), "{rm:?}");
    }
    // max + half an ulp rounds back to max in RNE (a tie to even): inexact, not an overflow.
    let half_ulp_of_max = s(p2s(103));
    assert_eq!(add_f32(MAX_S, half_ulp_of_max, Rne), (INF_S, OF | NX));
    let quarter_ulp_of_max = s(p2s(102));
    assert_eq!(add_f32(MAX_S, quarter_ulp_of_max, Rne), (MAX_S, NX));
    // Infinity arithmetic is exact: no flags.
    assert_eq!(add_f32(INF_S, s(1.0), Rne), (INF_S, 0));
    assert_eq!(mul_f64(INF_D, d(-2.0), Rne), (INF_D | 1 << 63, 0));
}

#[test]
fn underflow_and_subnormals_f32() {
    // An exact subnormal result raises nothing (UF needs inexactness).
    assert_eq!(mul_f32(MIN_NORMAL_S, s(0.5), Rne), (0x0040_0000, 0));
    // Half the smallest subnormal: a tie between 0 and 2^-149.
    let smallest = 1u32;
    let expect = [(Rne, 0), (Rtz, 0), (Rdn, 0), (Rup, 1), (Rmm, 1)];
    for (rm, want) in expect {
        assert_eq!(mul_f32(smallest, s(0.5), rm), (want, UF | NX), "{rm:?}");
    }
    // Negative: RDN goes to −2^-149, the others keep the sign on zero.
    assert_eq!(mul_f32(smallest, s(-0.5), Rdn), (0x8000_0001, UF | NX));
    assert_eq!(mul_f32(smallest, s(-0.5), Rne), (0x8000_0000, UF | NX));
    // Subnormal inputs are handled exactly.
    assert_eq!(add_f32(0x0000_0003, 0x0000_0005, Rne), (0x0000_0008, 0));
    assert_eq!(sub_f32(MIN_NORMAL_S, 1, Rne), (0x007f_ffff, 0));
}

#[test]
fn tininess_is_detected_after_rounding() {
    // (2^24 − 1)·2^-23 · 2^-127 = 2^-126 − 2^-150: exactly representable with 24 bits and an
    // unbounded exponent, so tiny after rounding; at subnormal precision it is a tie that rounds
    // to 2^-126. RISC-V (tininess after rounding): result 2^-126 with UF|NX.
    let a = 0x3fff_ffff; // 2 − 2^-23
    let b = s(p2s(-126)) >> 1; // 2^-127 (subnormal)
    assert_eq!(mul_f32(a, b, Rne), (MIN_NORMAL_S, UF | NX));
    assert_eq!(mul_f32(a, b, Rmm), (MIN_NORMAL_S, UF | NX));
    assert_eq!(mul_f32(a, b, Rup), (MIN_NORMAL_S, UF | NX));
    assert_eq!(mul_f32(a, b, Rtz), (0x007f_ffff, UF | NX));
    // The same through fcvt.s.d, for values on either side of the tininess boundary.
    let boundary = p2d(-126);
    // 2^-126 − 2^-150: tiny after rounding (exact in 24 bits).
    assert_eq!(
        f64_to_f32(d(boundary - p2d(-150)), Rne),
        (MIN_NORMAL_S, UF | NX)
    );
    // 2^-126 − 2^-150 + 2^-170: rounds (unbounded) down to 2^-126 − 2^-150: tiny.
    let v = boundary - p2d(-150) + p2d(-170);
    assert_eq!(f64_to_f32(d(v), Rne), (MIN_NORMAL_S, UF | NX));
    // 2^-126 − 2^-152: rounds (unbounded, 24 bits) to 2^-126 itself: not tiny, no UF.
    assert_eq!(f64_to_f32(d(boundary - p2d(-152)), Rne), (MIN_NORMAL_S, NX));
    assert_eq!(f64_to_f32(d(boundary - p2d(-160)), Rup), (MIN_NORMAL_S, NX));
    // …but towards zero it stays below 2^-126: tiny.
    assert_eq!(
        f64_to_f32(d(boundary - p2d(-152)), Rtz),
        (0x007f_ffff, UF | NX)
    );
    // binary64: (2 − 2^-52) · 2^-1023 = 2^-1022 − 2^-1075.
    let a = 0x3fff_ffff_ffff_ffff;
    let b = MIN_NORMAL_D >> 1;
    assert_eq!(mul_f64(a, b, Rne), (MIN_NORMAL_D, UF | NX));
    assert_eq!(mul_f64(a, b, Rtz), (MIN_NORMAL_D - 1, UF | NX));
    // fma and div go through the same check.
    assert_eq!(
        fma_f32(0x3fff_ffff, s(p2s(-126)) >> 1, 0, Rne, false, false),
        (MIN_NORMAL_S, UF | NX)
    );
    assert_eq!(
        div_f32(0x3fff_ffff, s(p2s(127)), Rne),
        (MIN_NORMAL_S, UF | NX),
        "(2 − 2^-23) / 2^127 = 2^-126 − 2^-150"
    );
}

#[test]
fn signed_zeros() {
    let x = s(1.75);
    assert_eq!(sub_f32(x, x, Rne), (0, 0));
    assert_eq!(sub_f32(x, x, Rdn), (0x8000_0000, 0), "x − x = −0 under RDN");
    assert_eq!(add_f64(d(2.5), d(-2.5), Rdn), (1 << 63, 0));
    assert_eq!(add_f64(d(2.5), d(-2.5), Rup), (0, 0));
    assert_eq!(add_f32(0x8000_0000, 0x8000_0000, Rne), (0x8000_0000, 0));
    assert_eq!(add_f32(0, 0x8000_0000, Rne), (0, 0));
    assert_eq!(add_f32(0, 0x8000_0000, Rdn), (0x8000_0000, 0));
    assert_eq!(mul_f32(0x8000_0000, s(3.0), Rne), (0x8000_0000, 0));
    assert_eq!(div_f64(d(-0.0), d(5.0), Rne), (d(-0.0), 0));
    // fma: the exact zero sum follows the same rule.
    assert_eq!(fma_f32(0, s(1.0), 0x8000_0000, Rne, false, false), (0, 0));
    assert_eq!(
        fma_f32(0, s(1.0), 0x8000_0000, Rdn, false, false),
        (0x8000_0000, 0)
    );
    assert_eq!(
        fma_f32(0, s(1.0), 0, Rne, true, true),
        (0x8000_0000, 0),
        "−(0·1) − 0"
    );
    assert_eq!(
        fma_f64(d(2.0), d(3.0), d(6.0), Rdn, false, true),
        (1 << 63, 0)
    );
    assert_eq!(fma_f64(d(2.0), d(3.0), d(6.0), Rne, false, true), (0, 0));
}

#[test]
fn sqrt_edge_cases() {
    for rm in ALL_MODES {
        assert_eq!(sqrt_f32(0x8000_0000, rm), (0x8000_0000, 0), "√−0 = −0");
        assert_eq!(sqrt_f64(1 << 63, rm), (1 << 63, 0));
        assert_eq!(sqrt_f32(0, rm), (0, 0));
        assert_eq!(sqrt_f32(s(-1.0), rm), (CANONICAL_NAN_F32, NV));
        assert_eq!(sqrt_f64(d(-1.0), rm), (CANONICAL_NAN_F64, NV));
        assert_eq!(sqrt_f64(d(-1e-300), rm), (CANONICAL_NAN_F64, NV));
        assert_eq!(sqrt_f32(INF_S | 0x8000_0000, rm), (CANONICAL_NAN_F32, NV));
        assert_eq!(sqrt_f32(INF_S, rm), (INF_S, 0));
        assert_eq!(sqrt_f64(INF_D, rm), (INF_D, 0));
        assert_eq!(sqrt_f32(s(4.0), rm), (s(2.0), 0));
        assert_eq!(sqrt_f64(d(0.25), rm), (d(0.5), 0));
        assert_eq!(sqrt_f32(SNAN_S, rm), (CANONICAL_NAN_F32, NV));
        assert_eq!(sqrt_f32(QNAN_S, rm), (CANONICAL_NAN_F32, 0));
        assert_eq!(sqrt_f64(QNAN_D | 1 << 63, rm), (CANONICAL_NAN_F64, 0));
    }
    // √2 = 1.41421356237…: binary32 0x3fb504f3 is below it, binary64 0x3ff6a09e667f3bcd above.
    let expect = [
        (Rne, 0x3fb5_04f3),
        (Rtz, 0x3fb5_04f3),
        (Rdn, 0x3fb5_04f3),
        (Rup, 0x3fb5_04f4),
        (Rmm, 0x3fb5_04f3),
    ];
    for (rm, want) in expect {
        assert_eq!(sqrt_f32(s(2.0), rm), (want, NX), "{rm:?}");
    }
    let expect = [
        (Rne, 0x3ff6_a09e_667f_3bcd),
        (Rtz, 0x3ff6_a09e_667f_3bcc),
        (Rdn, 0x3ff6_a09e_667f_3bcc),
        (Rup, 0x3ff6_a09e_667f_3bcd),
        (Rmm, 0x3ff6_a09e_667f_3bcd),
    ];
    for (rm, want) in expect {
        assert_eq!(sqrt_f64(d(2.0), rm), (want, NX), "{rm:?}");
    }
    // Subnormal inputs: √(2^-148) = 2^-74 exactly; √(2^-149) is inexact.
    assert_eq!(sqrt_f32(2, Rne), (s(p2s(-74)), 0));
    assert_eq!(sqrt_f32(1, Rne), (s((2f64.powi(-149)).sqrt() as f32), NX));
    assert_eq!(sqrt_f64(1, Rne), (d(p2d(-537)), 0), "√(2^-1074) = 2^-537");
    // The largest finite value.
    assert_eq!(sqrt_f64(MAX_D, Rne), (d(f64::MAX.sqrt()), NX));
}

#[test]
fn division_by_zero_and_invalid_division() {
    assert_eq!(div_f32(s(1.0), 0, Rne), (INF_S, DZ));
    assert_eq!(div_f32(s(-1.0), 0, Rne), (INF_S | 0x8000_0000, DZ));
    assert_eq!(div_f32(s(1.0), 0x8000_0000, Rne), (INF_S | 0x8000_0000, DZ));
    assert_eq!(
        div_f64(d(3.0), 0, Rtz),
        (INF_D, DZ),
        "DZ gives ∞ in every mode"
    );
    assert_eq!(div_f32(0, 0, Rne), (CANONICAL_NAN_F32, NV));
    assert_eq!(div_f64(INF_D, INF_D, Rne), (CANONICAL_NAN_F64, NV));
    assert_eq!(div_f32(INF_S, 0, Rne), (INF_S, 0), "∞/0 is exact");
    assert_eq!(div_f32(0, INF_S, Rne), (0, 0));
    assert_eq!(div_f64(d(1.0), INF_D | 1 << 63, Rne), (1 << 63, 0));
}

#[test]
fn nan_results_are_canonical() {
    // Invalid operations.
    assert_eq!(sub_f32(INF_S, INF_S, Rne), (CANONICAL_NAN_F32, NV));
    assert_eq!(
        add_f64(INF_D, INF_D | 1 << 63, Rne),
        (CANONICAL_NAN_F64, NV)
    );
    assert_eq!(mul_f32(INF_S, 0, Rne), (CANONICAL_NAN_F32, NV));
    // NaN operands: no payload propagation, no sign; NV only for signalling NaNs.
    assert_eq!(add_f32(QNAN_S, s(1.0), Rne), (CANONICAL_NAN_F32, 0));
    assert_eq!(mul_f32(s(1.0), NEG_QNAN_S, Rne), (CANONICAL_NAN_F32, 0));
    assert_eq!(div_f32(SNAN_S, s(1.0), Rne), (CANONICAL_NAN_F32, NV));
    assert_eq!(sub_f64(d(1.0), SNAN_D, Rne), (CANONICAL_NAN_F64, NV));
    assert_eq!(add_f64(QNAN_D, QNAN_D, Rne), (CANONICAL_NAN_F64, 0));
    assert_eq!(add_f64(QNAN_D, SNAN_D, Rne), (CANONICAL_NAN_F64, NV));
}

#[test]
fn fused_multiply_add() {
    let (a, b, c) = (s(2.0), s(3.0), s(1.0));
    assert_eq!(fma_f32(a, b, c, Rne, false, false), (s(7.0), 0), "fmadd");
    assert_eq!(fma_f32(a, b, c, Rne, false, true), (s(5.0), 0), "fmsub");
    assert_eq!(fma_f32(a, b, c, Rne, true, false), (s(-5.0), 0), "fnmsub");
    assert_eq!(fma_f32(a, b, c, Rne, true, true), (s(-7.0), 0), "fnmadd");
    let (a, b, c) = (d(2.0), d(3.0), d(1.0));
    assert_eq!(fma_f64(a, b, c, Rne, false, false), (d(7.0), 0));
    assert_eq!(fma_f64(a, b, c, Rne, false, true), (d(5.0), 0));
    assert_eq!(fma_f64(a, b, c, Rne, true, false), (d(-5.0), 0));
    assert_eq!(fma_f64(a, b, c, Rne, true, true), (d(-7.0), 0));
    // One rounding: (1 + 2^-12)² − 1 = 2^-11 + 2^-24 exactly (a separate multiply would lose
    // the 2^-24 term).
    let x = s(1.0 + p2s(-12));
    assert_eq!(
        fma_f32(x, x, s(-1.0), Rne, false, false),
        (s(p2s(-11) + p2s(-24)), 0)
    );
    let (product, _) = mul_f32(x, x, Rne);
    assert_eq!(sub_f32(product, s(1.0), Rne), (s(p2s(-11)), 0));
    let y = d(1.0 + p2d(-30));
    assert_eq!(
        fma_f64(y, y, d(-1.0), Rne, false, false),
        (d(p2d(-29) + p2d(-60)), 0)
    );
    // Rounding of the fused result per mode: 1·1 + 2^-24 is a tie.
    let expect = [
        (Rne, s(1.0)),
        (Rtz, s(1.0)),
        (Rdn, s(1.0)),
        (Rup, s(1.0) + 1),
        (Rmm, s(1.0) + 1),
    ];
    for (rm, want) in expect {
        assert_eq!(
            fma_f32(s(1.0), s(1.0), s(p2s(-24)), rm, false, false),
            (want, NX),
            "{rm:?}"
        );
    }
    // ∞·0 is invalid, even with a quiet-NaN addend (Unprivileged ISA §11.6).
    assert_eq!(
        fma_f32(INF_S, 0, s(1.0), Rne, false, false),
        (CANONICAL_NAN_F32, NV)
    );
    assert_eq!(
        fma_f32(0, INF_S, QNAN_S, Rne, false, false),
        (CANONICAL_NAN_F32, NV)
    );
    assert_eq!(
        fma_f64(INF_D, 1 << 63, QNAN_D, Rne, true, true),
        (CANONICAL_NAN_F64, NV)
    );
    // Other NaN inputs: quiet → no flag, signalling → NV.
    assert_eq!(
        fma_f32(s(1.0), s(1.0), QNAN_S, Rne, false, false),
        (CANONICAL_NAN_F32, 0)
    );
    assert_eq!(
        fma_f32(QNAN_S, s(1.0), s(1.0), Rne, false, false),
        (CANONICAL_NAN_F32, 0)
    );
    assert_eq!(
        fma_f32(s(1.0), SNAN_S, s(1.0), Rne, false, false),
        (CANONICAL_NAN_F32, NV)
    );
    assert_eq!(
        fma_f64(d(1.0), d(1.0), SNAN_D, Rne, false, false),
        (CANONICAL_NAN_F64, NV)
    );
    // ∞ − ∞ inside an fma.
    assert_eq!(
        fma_f32(INF_S, s(1.0), INF_S, Rne, false, true),
        (CANONICAL_NAN_F32, NV)
    );
    // Overflow and the product's infinity.
    assert_eq!(
        fma_f32(MAX_S, s(2.0), 0, Rtz, false, false),
        (MAX_S, OF | NX)
    );
    assert_eq!(
        fma_f32(INF_S, s(2.0), s(1.0), Rne, false, false),
        (INF_S, 0)
    );
}

#[test]
fn float_to_int_saturation_boundaries() {
    let two63 = p2d(63);
    assert_eq!(f64_to_i64(d(two63), Rne), (i64::MAX, NV), "2^63 → i64 max");
    assert_eq!(f64_to_i64(d(-two63), Rne), (i64::MIN, 0), "−2^63 is exact");
    assert_eq!(
        f64_to_i64(d(-two63) + 1, Rne),
        (i64::MIN, NV),
        "just below −2^63"
    );
    assert_eq!(f64_to_i64(d(two63) - 1, Rne), (i64::MAX - 1023, 0));
    assert_eq!(f64_to_u64(d(p2d(64)), Rne), (u64::MAX, NV));
    assert_eq!(f64_to_u64(d(p2d(64)) - 1, Rne), (u64::MAX - 2047, 0));
    assert_eq!(f32_to_i64(s(p2s(63)), Rtz), (i64::MAX, NV));
    assert_eq!(f32_to_u64(s(-1.0), Rtz), (0, NV));
    assert_eq!(f64_to_u32(d(-1.0), Rne), (0, NV), "−1.0 → u32 0 + NV");
    assert_eq!(f32_to_u32(s(-1.0), Rtz), (0, NV));
    // A negative value that rounds to zero is not out of range.
    assert_eq!(
        f32_to_u32(s(-0.5), Rtz),
        (0, NX),
        "−0.5 RTZ → 0 with NX only"
    );
    assert_eq!(f64_to_u32(d(-0.5), Rne), (0, NX), "tie to even 0");
    assert_eq!(f64_to_u32(d(-0.5), Rup), (0, NX));
    assert_eq!(f64_to_u32(d(-0.5), Rmm), (0, NV), "rounds to −1");
    assert_eq!(f64_to_u32(d(-0.5), Rdn), (0, NV), "rounds to −1");
    assert_eq!(f64_to_u64(d(-0.0), Rne), (0, 0));
    // 32-bit boundaries.
    assert_eq!(f64_to_i32(d(2147483647.0), Rne), (i32::MAX, 0));
    assert_eq!(f64_to_i32(d(2147483647.5), Rtz), (i32::MAX, NX));
    assert_eq!(
        f64_to_i32(d(2147483647.5), Rne),
        (i32::MAX, NV),
        "rounds to 2^31: NV only"
    );
    assert_eq!(f64_to_i32(d(-2147483648.5), Rtz), (i32::MIN, NX));
    assert_eq!(f64_to_i32(d(-2147483648.5), Rdn), (i32::MIN, NV));
    assert_eq!(f64_to_u32(d(4294967295.5), Rtz), (u32::MAX, NX));
    assert_eq!(f64_to_u32(d(4294967295.5), Rne), (u32::MAX, NV));
    assert_eq!(f32_to_i32(s(p2s(31)), Rne), (i32::MAX, NV));
    assert_eq!(f32_to_i32(s(-p2s(31)), Rne), (i32::MIN, 0));
    // NaN → the largest positive integer whatever its sign; ±∞ saturate.
    for nan in [QNAN_S, SNAN_S, NEG_QNAN_S] {
        assert_eq!(f32_to_i32(nan, Rne), (i32::MAX, NV));
        assert_eq!(f32_to_u32(nan, Rne), (u32::MAX, NV));
        assert_eq!(f32_to_i64(nan, Rne), (i64::MAX, NV));
        assert_eq!(f32_to_u64(nan, Rne), (u64::MAX, NV));
    }
    assert_eq!(f64_to_i32(QNAN_D | 1 << 63, Rtz), (i32::MAX, NV));
    assert_eq!(f64_to_i64(INF_D | 1 << 63, Rne), (i64::MIN, NV));
    assert_eq!(f64_to_u64(INF_D | 1 << 63, Rne), (0, NV));
    assert_eq!(f64_to_u32(INF_D, Rne), (u32::MAX, NV));
    assert_eq!(f32_to_i32(INF_S, Rne), (i32::MAX, NV));
}

#[test]
fn float_to_int_rounds_per_mode() {
    let cases: [(f64, [i32; 5]); 6] = [
        // value: [RNE, RTZ, RDN, RUP, RMM]
        (2.5, [2, 2, 2, 3, 3]),
        (-2.5, [-2, -2, -3, -2, -3]),
        (3.5, [4, 3, 3, 4, 4]),
        (2.25, [2, 2, 2, 3, 2]),
        (-2.75, [-3, -2, -3, -2, -3]),
        (0.1, [0, 0, 0, 1, 0]),
    ];
    for (v, want) in cases {
        for (rm, want) in ALL_MODES.into_iter().zip(want) {
            assert_eq!(f64_to_i32(d(v), rm), (want, NX), "{v} {rm:?}");
            assert_eq!(f32_to_i64(s(v as f32), rm), (want.into(), NX), "{v} {rm:?}");
        }
    }
    for rm in ALL_MODES {
        assert_eq!(f32_to_i32(s(-7.0), rm), (-7, 0));
        assert_eq!(f64_to_u64(d(1e19), rm), (10_000_000_000_000_000_000, 0));
    }
}

#[test]
fn int_to_float() {
    // 2^24 + 1 needs 25 bits: a tie.
    assert_eq!(i32_to_f32(16_777_217, Rne), (s(16_777_216.0), NX));
    assert_eq!(i32_to_f32(16_777_217, Rup), (s(16_777_218.0), NX));
    assert_eq!(i32_to_f32(16_777_217, Rmm), (s(16_777_218.0), NX));
    assert_eq!(i32_to_f32(-16_777_217, Rdn), (s(-16_777_218.0), NX));
    assert_eq!(i32_to_f32(-16_777_217, Rtz), (s(-16_777_216.0), NX));
    assert_eq!(i32_to_f32(i32::MIN, Rne), (s(-2147483648.0), 0));
    assert_eq!(u32_to_f32(u32::MAX, Rne), (s(4294967296.0), NX));
    assert_eq!(u32_to_f32(u32::MAX, Rtz), (0x4f7f_ffff, NX));
    assert_eq!(u64_to_f32(u64::MAX, Rne), (s(p2s(64)), NX));
    assert_eq!(u64_to_f32(u64::MAX, Rtz), (0x5f7f_ffff, NX));
    assert_eq!(i64_to_f32(0, Rdn), (0, 0), "0 converts to +0 in every mode");
    assert_eq!(i64_to_f64(i64::MIN, Rne), (d(-p2d(63)), 0));
    assert_eq!(i64_to_f64(-1, Rne), (d(-1.0), 0));
    assert_eq!(i64_to_f64(i64::MAX, Rne), (d(p2d(63)), NX));
    assert_eq!(i64_to_f64(i64::MAX, Rtz), (d(p2d(63)) - 1, NX));
    assert_eq!(u64_to_f64(u64::MAX, Rdn), (d(p2d(64)) - 1, NX));
    assert_eq!(u64_to_f64((1 << 53) + 1, Rne), (d(p2d(53)), NX));
    for v in [0, 1, 12345, u32::MAX] {
        assert_eq!(u32_to_f64(v, Rne), (d(v.into()), 0));
    }
    for v in [0, -1, i32::MIN, i32::MAX] {
        assert_eq!(i32_to_f64(v, Rup), (d(v.into()), 0));
    }
}

#[test]
fn single_double_conversions() {
    assert_eq!(
        f64_to_f32(d(1e300), Rne),
        (INF_S, OF | NX),
        "fcvt.s.d of a large value"
    );
    assert_eq!(f64_to_f32(d(1e300), Rtz), (MAX_S, OF | NX));
    assert_eq!(f64_to_f32(d(-1e300), Rup), (MAX_S | 0x8000_0000, OF | NX));
    assert_eq!(f64_to_f32(d(-1e300), Rdn), (INF_S | 0x8000_0000, OF | NX));
    assert_eq!(f64_to_f32(INF_D, Rne), (INF_S, 0));
    assert_eq!(f64_to_f32(d(1e-300), Rne), (0, UF | NX));
    assert_eq!(f64_to_f32(d(1e-300), Rup), (1, UF | NX));
    assert_eq!(f64_to_f32(d(0.1), Rne), (s(0.1), NX));
    assert_eq!(
        f64_to_f32(d(0.1), Rtz),
        (s(0.1) - 1, NX),
        "0.1f rounds up in RNE"
    );
    assert_eq!(f64_to_f32(d(1.5), Rne), (s(1.5), 0));
    assert_eq!(f64_to_f32(d(-0.0), Rne), (0x8000_0000, 0));
    assert_eq!(f64_to_f32(SNAN_D, Rne), (CANONICAL_NAN_F32, NV));
    assert_eq!(f64_to_f32(QNAN_D | 1 << 63, Rne), (CANONICAL_NAN_F32, 0));
    assert_eq!(f32_to_f64(SNAN_S), (CANONICAL_NAN_F64, NV));
    assert_eq!(f32_to_f64(QNAN_S), (CANONICAL_NAN_F64, 0));
    assert_eq!(
        f32_to_f64(1),
        (d(2f64.powi(-149)), 0),
        "subnormals widen exactly"
    );
    assert_eq!(f32_to_f64(MAX_S), (d(f32::MAX.into()), 0));
    assert_eq!(f32_to_f64(INF_S | 0x8000_0000), (INF_D | 1 << 63, 0));
}

#[test]
fn fclass_of_each_class() {
    let cases_s: [(u32, u64); 12] = [
        (INF_S | 0x8000_0000, 1 << 0),
        (s(-1.0), 1 << 1),
        (0x8000_0001, 1 << 2),
        (0x8000_0000, 1 << 3),
        (0, 1 << 4),
        (0x007f_ffff, 1 << 5),
        (MIN_NORMAL_S, 1 << 6),
        (MAX_S, 1 << 6),
        (INF_S, 1 << 7),
        (SNAN_S, 1 << 8),
        (QNAN_S, 1 << 9),
        (NEG_QNAN_S, 1 << 9),
    ];
    for (v, want) in cases_s {
        assert_eq!(class_f32(v), want, "{v:#x}");
    }
    let cases_d: [(u64, u64); 11] = [
        (INF_D | 1 << 63, 1 << 0),
        (d(-1e300), 1 << 1),
        (1 | 1 << 63, 1 << 2),
        (1 << 63, 1 << 3),
        (0, 1 << 4),
        (MIN_NORMAL_D - 1, 1 << 5),
        (d(2.0), 1 << 6),
        (INF_D, 1 << 7),
        (SNAN_D, 1 << 8),
        (SNAN_D | 1 << 63, 1 << 8),
        (CANONICAL_NAN_F64, 1 << 9),
    ];
    for (v, want) in cases_d {
        assert_eq!(class_f64(v), want, "{v:#x}");
    }
}

#[test]
fn min_max_nans_and_signed_zeros() {
    let (pz, nz) = (0u32, 0x8000_0000u32);
    assert_eq!(min_f32(pz, nz), (nz, 0), "−0 < +0");
    assert_eq!(min_f32(nz, pz), (nz, 0));
    assert_eq!(max_f32(pz, nz), (pz, 0));
    assert_eq!(max_f32(nz, pz), (pz, 0));
    assert_eq!(max_f32(nz, nz), (nz, 0));
    assert_eq!(min_f64(0, 1 << 63), (1 << 63, 0));
    assert_eq!(max_f64(1 << 63, 0), (0, 0));
    // One NaN: the other operand; NV only for a signalling NaN.
    assert_eq!(min_f32(QNAN_S, s(1.0)), (s(1.0), 0));
    assert_eq!(max_f32(s(-3.0), QNAN_S), (s(-3.0), 0));
    assert_eq!(min_f32(SNAN_S, s(1.0)), (s(1.0), NV));
    assert_eq!(max_f64(d(2.0), SNAN_D), (d(2.0), NV));
    // Both NaN: the canonical NaN.
    assert_eq!(min_f32(QNAN_S, NEG_QNAN_S), (CANONICAL_NAN_F32, 0));
    assert_eq!(max_f32(SNAN_S, QNAN_S), (CANONICAL_NAN_F32, NV));
    assert_eq!(min_f64(QNAN_D, QNAN_D), (CANONICAL_NAN_F64, 0));
    // Ordinary values, infinities, subnormals.
    assert_eq!(min_f32(s(1.0), s(2.0)), (s(1.0), 0));
    assert_eq!(max_f32(s(1.0), s(2.0)), (s(2.0), 0));
    assert_eq!(max_f32(INF_S | nz, s(-3.0)), (s(-3.0), 0));
    assert_eq!(min_f64(d(-1e300), INF_D), (d(-1e300), 0));
    assert_eq!(min_f32(1, 2), (1, 0));
    assert_eq!(max_f64(0x8000_0000_0000_0001, 1 << 63), (1 << 63, 0));
}

#[test]
fn compares_quiet_and_signalling() {
    assert_eq!(eq_f32(s(1.0), s(1.0)), (true, 0));
    assert_eq!(eq_f32(0, 0x8000_0000), (true, 0), "+0 = −0");
    assert_eq!(lt_f32(0x8000_0000, 0), (false, 0));
    assert_eq!(le_f32(0x8000_0000, 0), (true, 0));
    assert_eq!(lt_f64(d(-1.0), d(1.0)), (true, 0));
    assert_eq!(le_f64(d(2.0), d(1.0)), (false, 0));
    assert_eq!(lt_f32(INF_S | 0x8000_0000, INF_S), (true, 0));
    // feq is quiet: NV only for a signalling NaN.
    assert_eq!(eq_f32(QNAN_S, QNAN_S), (false, 0));
    assert_eq!(eq_f32(SNAN_S, s(1.0)), (false, NV));
    assert_eq!(eq_f64(d(1.0), QNAN_D), (false, 0));
    assert_eq!(eq_f64(d(1.0), SNAN_D), (false, NV));
    // flt/fle signal on any NaN.
    assert_eq!(lt_f32(QNAN_S, s(1.0)), (false, NV));
    assert_eq!(le_f32(s(1.0), QNAN_S), (false, NV));
    assert_eq!(lt_f64(SNAN_D, d(1.0)), (false, NV));
    assert_eq!(le_f64(QNAN_D, QNAN_D), (false, NV));
}
