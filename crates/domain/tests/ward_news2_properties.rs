//! NEWS2 properties for any observations: the total is the sum of the parts, the band follows,
//! missing parameters only ever hide points, and each row rises away from its normal range.

use docde_domain::ward::Acvpu;
use docde_domain::ward::news2::{
    Band, News2, Observations, Spo2Scale, pulse_score, respiration_score, spo2_scale1_score,
    spo2_scale2_score, systolic_score, temperature_score,
};
use proptest::prelude::*;

fn any_observations() -> impl Strategy<Value = Observations> {
    (
        prop::option::of(0.0f64..60.0),
        prop::option::of(60.0f64..=100.0),
        prop::option::of(any::<bool>()),
        prop::option::of(40.0f64..260.0),
        prop::option::of(20.0f64..220.0),
        prop::option::of(prop::sample::select(Acvpu::ALL.to_vec())),
        prop::option::of(30.0f64..43.0),
    )
        .prop_map(|(rr, spo2, o2, sbp, pulse, c, temp)| Observations {
            respiratory_rate: rr,
            spo2,
            supplemental_oxygen: o2,
            systolic_bp: sbp,
            pulse,
            consciousness: c,
            temperature: temp,
        })
}

fn any_scale() -> impl Strategy<Value = Spo2Scale> {
    prop::sample::select(Spo2Scale::ALL.to_vec())
}

proptest! {
    #[test]
    fn the_total_is_the_sum_of_the_parts_and_the_band_follows_from_them(obs in any_observations(), scale in any_scale()) {
        let score = News2::score(&obs, scale);
        let parts: Vec<u8> = score.sub_scores().map(|(_, s)| s).collect();
        prop_assert_eq!(score.total(), parts.iter().sum::<u8>());
        prop_assert!(parts.iter().all(|&s| s <= 3));
        prop_assert_eq!(score.sub_scores().count() + score.missing().count(), 7);
        let expected = match score.total() {
            7.. => Band::High,
            5..=6 => Band::Medium,
            _ if parts.contains(&3) => Band::LowMedium,
            _ => Band::Low,
        };
        prop_assert_eq!(score.band(), expected);
    }

    #[test]
    fn filling_in_a_missing_parameter_never_lowers_the_score(obs in any_observations(), full in any_observations(), scale in any_scale()) {
        let completed = Observations {
            respiratory_rate: obs.respiratory_rate.or(full.respiratory_rate),
            spo2: obs.spo2.or(full.spo2),
            supplemental_oxygen: obs.supplemental_oxygen.or(full.supplemental_oxygen),
            systolic_bp: obs.systolic_bp.or(full.systolic_bp),
            pulse: obs.pulse.or(full.pulse),
            consciousness: obs.consciousness.or(full.consciousness),
            temperature: obs.temperature.or(full.temperature),
        };
        prop_assert!(News2::score(&completed, scale).total() >= News2::score(&obs, scale).total());
    }

    #[test]
    fn scores_rise_monotonically_away_from_the_normal_range(a in 0.0f64..300.0, b in 0.0f64..300.0) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        // Rows shaped like a V: falling to the normal range, rising after it.
        for (score, normal_low, normal_high) in [
            (respiration_score as fn(f64) -> u8, 12.0, 20.0),
            (pulse_score, 51.0, 90.0),
            (systolic_score, 111.0, 219.0),
            (temperature_score, 36.1, 38.0),
        ] {
            if hi <= normal_high {
                prop_assert!(score(lo) >= score(hi), "falling towards normal: {lo} {hi}");
            }
            if lo >= normal_low {
                prop_assert!(score(lo) <= score(hi), "rising past normal: {lo} {hi}");
            }
        }
        // Saturation on air only gets better as it rises.
        let (lo, hi) = (lo.min(100.0), hi.min(100.0));
        prop_assert!(spo2_scale1_score(lo) >= spo2_scale1_score(hi));
        prop_assert!(spo2_scale2_score(lo, false) >= spo2_scale2_score(hi, false));
        if lo >= 88.0 {
            prop_assert!(spo2_scale2_score(lo, true) <= spo2_scale2_score(hi, true));
        }
    }

    #[test]
    fn oxygen_never_lowers_the_scale_2_score(spo2 in 50.0f64..=100.0) {
        prop_assert!(spo2_scale2_score(spo2, true) >= spo2_scale2_score(spo2, false));
    }
}
