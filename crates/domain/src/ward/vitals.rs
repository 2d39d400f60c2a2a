//! The vocabulary of bedside reports: which kinds exist, which units each accepts, their LOINC
//! codes, and the ACVPU consciousness scale. Turning device input into a checked value is
//! `sample`'s job.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

labelled_enum! {
    /// Something a bedside device reports: a vital sign, the IV bag, the nurse-call button or
    /// the device's own battery.
    VitalKind {
        HeartRate => "heart_rate", "심박수", "Heart rate";
        RespiratoryRate => "respiratory_rate", "호흡수", "Respiratory rate";
        Spo2 => "spo2", "산소포화도", "SpO2";
        BodyTemperature => "body_temperature", "체온", "Body temperature";
        SystolicBp => "systolic_bp", "수축기 혈압", "Systolic blood pressure";
        DiastolicBp => "diastolic_bp", "이완기 혈압", "Diastolic blood pressure";
        /// ACVPU, see [`Acvpu`].
        Consciousness => "consciousness", "의식 수준", "Consciousness (ACVPU)";
        /// Whether the patient breathes supplemental oxygen (true) or room air (false).
        SupplementalOxygen => "supplemental_oxygen", "산소 투여", "Supplemental oxygen";
        /// What is left in the IV bag, in % or mL.
        IvBag => "iv_bag", "수액 잔량", "IV bag remaining";
        /// The nurse-call button: pressed (true) or released (false).
        NurseCall => "nurse_call", "간호사 호출", "Nurse call";
        Battery => "battery", "배터리", "Battery";
    }
}

impl VitalKind {
    /// The LOINC code of the FHIR R4 vital-signs profile, where DESIGN.md fixes one.
    pub fn loinc(self) -> Option<&'static str> {
        match self {
            VitalKind::HeartRate => Some("8867-4"),
            VitalKind::RespiratoryRate => Some("9279-1"),
            VitalKind::Spo2 => Some("2708-6"),
            VitalKind::BodyTemperature => Some("8310-5"),
            VitalKind::SystolicBp => Some("8480-6"),
            VitalKind::DiastolicBp => Some("8462-4"),
            _ => None,
        }
    }

    /// The units a sample of this kind may carry. Empty for kinds without a unit (ACVPU,
    /// air/oxygen, nurse call).
    pub fn units(self) -> &'static [Unit] {
        match self {
            VitalKind::HeartRate | VitalKind::RespiratoryRate => &[Unit::PerMinute],
            VitalKind::Spo2 | VitalKind::Battery => &[Unit::Percent],
            VitalKind::BodyTemperature => &[Unit::Celsius],
            VitalKind::SystolicBp | VitalKind::DiastolicBp => &[Unit::MillimetreOfMercury],
            VitalKind::IvBag => &[Unit::Percent, Unit::Millilitre],
            VitalKind::Consciousness | VitalKind::SupplementalOxygen | VitalKind::NurseCall => &[],
        }
    }

    /// The unit assumed when a device leaves it out: the only one the kind accepts. `None`
    /// for unitless kinds and for the IV bag, where % and mL are both common and guessing
    /// would turn 50 mL into "half full".
    pub fn default_unit(self) -> Option<Unit> {
        match self.units() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// Measured as a number (as opposed to a category or an on/off state).
    pub fn is_numeric(self) -> bool {
        !self.units().is_empty()
    }
}

/// A unit of measure, written in UCUM (`/min`, `%`, `Cel`, `mm[Hg]`, `mL`) on the way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    PerMinute,
    Percent,
    Celsius,
    MillimetreOfMercury,
    Millilitre,
}

impl Unit {
    pub const ALL: &'static [Unit] = &[
        Unit::PerMinute,
        Unit::Percent,
        Unit::Celsius,
        Unit::MillimetreOfMercury,
        Unit::Millilitre,
    ];

    /// The UCUM code, as FHIR wants it.
    pub fn code(self) -> &'static str {
        match self {
            Unit::PerMinute => "/min",
            Unit::Percent => "%",
            Unit::Celsius => "Cel",
            Unit::MillimetreOfMercury => "mm[Hg]",
            Unit::Millilitre => "mL",
        }
    }

    /// Accepts the UCUM code and the spellings devices commonly send (`°C`, `mmHg`, `bpm`,
    /// `ml`). Fahrenheit is deliberately not here: converting silently would hide a
    /// misconfigured device, so it is a unit mismatch.
    pub fn parse(text: &str) -> Option<Unit> {
        match text.trim() {
            "/min" | "1/min" | "{beats}/min" | "{breaths}/min" | "bpm" | "beats/min"
            | "breaths/min" => Some(Unit::PerMinute),
            "%" => Some(Unit::Percent),
            "Cel" | "°C" | "℃" | "C" | "degC" => Some(Unit::Celsius),
            "mm[Hg]" | "mmHg" | "mmhg" => Some(Unit::MillimetreOfMercury),
            "mL" | "ml" => Some(Unit::Millilitre),
            _ => None,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Unit::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown unit {text:?}")))
    }
}

labelled_enum! {
    /// The ACVPU consciousness scale NEWS2 uses, from best to worst.
    Acvpu {
        Alert => "alert", "명료", "Alert";
        /// New-onset or worsening confusion, delirium or disorientation.
        NewConfusion => "new_confusion", "새로운 혼돈", "New confusion";
        Voice => "voice", "언어 반응", "Responds to voice";
        Pain => "pain", "통증 반응", "Responds to pain";
        Unresponsive => "unresponsive", "무반응", "Unresponsive";
    }
}

impl Acvpu {
    /// Accepts the code or the chart letter (A, C, V, P, U), in any case.
    pub fn parse(text: &str) -> Option<Acvpu> {
        let text = text.trim().to_ascii_lowercase();
        Acvpu::ALL.iter().copied().find(|level| {
            level.code() == text || (text.len() == 1 && level.letter().eq_ignore_ascii_case(&text))
        })
    }

    /// The letter on a paper chart.
    pub fn letter(self) -> &'static str {
        match self {
            Acvpu::Alert => "A",
            Acvpu::NewConfusion => "C",
            Acvpu::Voice => "V",
            Acvpu::Pain => "P",
            Acvpu::Unresponsive => "U",
        }
    }

    /// 0 (alert) … 4 (unresponsive): how the level is stored as a number.
    pub fn rank(self) -> u8 {
        match self {
            Acvpu::Alert => 0,
            Acvpu::NewConfusion => 1,
            Acvpu::Voice => 2,
            Acvpu::Pain => 3,
            Acvpu::Unresponsive => 4,
        }
    }

    pub fn from_rank(rank: u8) -> Option<Acvpu> {
        Acvpu::ALL.get(usize::from(rank)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_code() {
        for &kind in VitalKind::ALL {
            assert_eq!(kind.code().parse::<VitalKind>(), Ok(kind));
            assert!(!kind.ko().is_empty() && !kind.en().is_empty());
        }
        assert!("blood_sugar".parse::<VitalKind>().is_err());
    }

    #[test]
    fn vital_signs_carry_the_loinc_codes_of_the_fhir_profile() {
        assert_eq!(VitalKind::HeartRate.loinc(), Some("8867-4"));
        assert_eq!(VitalKind::BodyTemperature.loinc(), Some("8310-5"));
        assert_eq!(VitalKind::DiastolicBp.loinc(), Some("8462-4"));
        assert_eq!(VitalKind::NurseCall.loinc(), None);
    }

    #[test]
    fn common_unit_spellings_map_to_one_ucum_code() {
        assert_eq!(Unit::parse("°C"), Some(Unit::Celsius));
        assert_eq!(Unit::parse("Cel"), Some(Unit::Celsius));
        assert_eq!(Unit::parse("mmHg"), Some(Unit::MillimetreOfMercury));
        assert_eq!(Unit::parse("ml"), Some(Unit::Millilitre));
        assert_eq!(Unit::parse("°F"), None);
        for &unit in Unit::ALL {
            assert_eq!(Unit::parse(unit.code()), Some(unit));
        }
    }

    #[test]
    fn only_the_iv_bag_needs_its_unit_spelled_out() {
        let ambiguous: Vec<_> = VitalKind::ALL
            .iter()
            .filter(|k| k.is_numeric() && k.default_unit().is_none())
            .collect();
        assert_eq!(ambiguous, [&VitalKind::IvBag]);
    }

    #[test]
    fn acvpu_accepts_codes_and_chart_letters() {
        assert_eq!(Acvpu::parse("V"), Some(Acvpu::Voice));
        assert_eq!(Acvpu::parse("c"), Some(Acvpu::NewConfusion));
        assert_eq!(Acvpu::parse("Unresponsive"), Some(Acvpu::Unresponsive));
        assert_eq!(Acvpu::parse("drowsy"), None);
        for &level in Acvpu::ALL {
            assert_eq!(Acvpu::from_rank(level.rank()), Some(level));
        }
    }
}
