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
    assert!(fast::add::<f64>(f64::MAX.to_bits(), f64::MAX.to_bits(), RoundingMode::Rne).is_none());
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
