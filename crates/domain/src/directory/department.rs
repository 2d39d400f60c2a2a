//! The fixed list of clinical departments (진료과), with stable codes for the API and
//! Korean and English names for people.

use std::fmt;
use std::str::FromStr;

macro_rules! departments {
    ($($variant:ident => $code:literal, $ko:literal, $en:literal;)*) => {
        /// A clinical department.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Department {
            $($variant,)*
        }

        impl Department {
            pub const ALL: &'static [Department] = &[$(Department::$variant,)*];

            /// Stable code used in the API and the database, e.g. `internal_medicine`.
            pub fn code(self) -> &'static str {
                match self { $(Department::$variant => $code,)* }
            }

            /// Korean name, e.g. `내과`.
            pub fn ko(self) -> &'static str {
                match self { $(Department::$variant => $ko,)* }
            }

            /// English name, e.g. `Internal Medicine`.
            pub fn en(self) -> &'static str {
                match self { $(Department::$variant => $en,)* }
            }
        }
    };
}

departments! {
    InternalMedicine => "internal_medicine", "내과", "Internal Medicine";
    GeneralSurgery => "general_surgery", "외과", "General Surgery";
    OrthopedicSurgery => "orthopedic_surgery", "정형외과", "Orthopedic Surgery";
    Neurosurgery => "neurosurgery", "신경외과", "Neurosurgery";
    ThoracicSurgery => "thoracic_surgery", "흉부외과", "Thoracic and Cardiovascular Surgery";
    PlasticSurgery => "plastic_surgery", "성형외과", "Plastic Surgery";
    Pediatrics => "pediatrics", "소아청소년과", "Pediatrics";
    ObstetricsGynecology => "obstetrics_gynecology", "산부인과", "Obstetrics and Gynecology";
    Otorhinolaryngology => "otorhinolaryngology", "이비인후과", "Otorhinolaryngology";
    Ophthalmology => "ophthalmology", "안과", "Ophthalmology";
    Dermatology => "dermatology", "피부과", "Dermatology";
    Urology => "urology", "비뇨의학과", "Urology";
    Psychiatry => "psychiatry", "정신건강의학과", "Psychiatry";
    Neurology => "neurology", "신경과", "Neurology";
    RehabilitationMedicine => "rehabilitation_medicine", "재활의학과", "Rehabilitation Medicine";
    FamilyMedicine => "family_medicine", "가정의학과", "Family Medicine";
    Radiology => "radiology", "영상의학과", "Radiology";
    Anesthesiology => "anesthesiology", "마취통증의학과", "Anesthesiology and Pain Medicine";
    EmergencyMedicine => "emergency_medicine", "응급의학과", "Emergency Medicine";
    LaboratoryMedicine => "laboratory_medicine", "진단검사의학과", "Laboratory Medicine";
    RadiationOncology => "radiation_oncology", "방사선종양학과", "Radiation Oncology";
    NuclearMedicine => "nuclear_medicine", "핵의학과", "Nuclear Medicine";
    OccupationalMedicine => "occupational_medicine", "직업환경의학과", "Occupational and Environmental Medicine";
    Dentistry => "dentistry", "치과", "Dentistry";
    KoreanMedicine => "korean_medicine", "한방내과", "Korean Internal Medicine";
    KoreanRehabilitation => "korean_rehabilitation", "한방재활의학과", "Korean Rehabilitation Medicine";
    Acupuncture => "acupuncture", "침구과", "Acupuncture and Moxibustion";
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown department {0:?}")]
pub struct UnknownDepartment(pub String);

impl FromStr for Department {
    type Err = UnknownDepartment;

    /// Accepts the code, or the Korean name (`내과`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Department::ALL
            .iter()
            .copied()
            .find(|d| d.code() == s || d.ko() == s)
            .ok_or_else(|| UnknownDepartment(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_korean_names_are_unique_and_round_trip() {
        let mut codes: Vec<_> = Department::ALL.iter().map(|d| d.code()).collect();
        let mut names: Vec<_> = Department::ALL.iter().map(|d| d.ko()).collect();
        codes.sort();
        codes.dedup();
        names.sort();
        names.dedup();
        assert_eq!(
            (codes.len(), names.len()),
            (Department::ALL.len(), Department::ALL.len())
        );
        for &d in Department::ALL {
            assert_eq!(d.code().parse::<Department>(), Ok(d));
            assert_eq!(d.ko().parse::<Department>(), Ok(d));
        }
        assert!("astrology".parse::<Department>().is_err());
    }
}
