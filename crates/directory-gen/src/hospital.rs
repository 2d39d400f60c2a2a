//! The generated records: hospitals, their types and doctors.

use docde_domain::directory::{Department, Timetable};

/// What kind of medical institution a hospital is, as the Medical Service Act classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HospitalType {
    /// 의원: a clinic, usually one or a few doctors.
    Clinic,
    /// 병원: 30+ beds.
    Hospital,
    /// 종합병원: 100+ beds and at least 7–9 departments.
    GeneralHospital,
    /// 상급종합병원: designated tertiary (mostly university) hospitals.
    TertiaryHospital,
    /// 치과의원.
    DentalClinic,
    /// 한의원: Korean medicine clinic.
    KoreanMedicineClinic,
    /// 요양병원: long-term care hospital.
    NursingHospital,
}

impl HospitalType {
    pub const ALL: &'static [HospitalType] = &[
        HospitalType::Clinic,
        HospitalType::Hospital,
        HospitalType::GeneralHospital,
        HospitalType::TertiaryHospital,
        HospitalType::DentalClinic,
        HospitalType::KoreanMedicineClinic,
        HospitalType::NursingHospital,
    ];

    /// Stable code, as the `hospitals.hospital_type` column stores it.
    pub fn code(self) -> &'static str {
        match self {
            HospitalType::Clinic => "clinic",
            HospitalType::Hospital => "hospital",
            HospitalType::GeneralHospital => "general_hospital",
            HospitalType::TertiaryHospital => "tertiary_hospital",
            HospitalType::DentalClinic => "dental_clinic",
            HospitalType::KoreanMedicineClinic => "korean_medicine_clinic",
            HospitalType::NursingHospital => "nursing_hospital",
        }
    }

    pub fn ko(self) -> &'static str {
        match self {
            HospitalType::Clinic => "의원",
            HospitalType::Hospital => "병원",
            HospitalType::GeneralHospital => "종합병원",
            HospitalType::TertiaryHospital => "상급종합병원",
            HospitalType::DentalClinic => "치과의원",
            HospitalType::KoreanMedicineClinic => "한의원",
            HospitalType::NursingHospital => "요양병원",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            HospitalType::Clinic => "Clinic",
            HospitalType::Hospital => "Hospital",
            HospitalType::GeneralHospital => "General Hospital",
            HospitalType::TertiaryHospital => "Tertiary Hospital",
            HospitalType::DentalClinic => "Dental Clinic",
            HospitalType::KoreanMedicineClinic => "Korean Medicine Clinic",
            HospitalType::NursingHospital => "Nursing Hospital",
        }
    }

    /// The type with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.code() == code)
    }

    /// The range of doctors a hospital of this type gets.
    pub fn doctor_range(self) -> (usize, usize) {
        match self {
            HospitalType::Clinic
            | HospitalType::DentalClinic
            | HospitalType::KoreanMedicineClinic => (1, 30),
            HospitalType::NursingHospital => (4, 20),
            HospitalType::Hospital => (8, 30),
            HospitalType::GeneralHospital => (15, 30),
            HospitalType::TertiaryHospital => (25, 30),
        }
    }
}

/// A generated hospital. Every value is valid: coordinates inside Korea, hours that close after
/// they open with lunch inside them, departments consistent with the name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct Hospital {
    pub name: String,
    /// Romanized name for bigger hospitals ("Bundang Jeil Hospital"); clinics have none.
    pub latin_name: Option<String>,
    pub hospital_type: HospitalType,
    /// 시도 as addresses write it, from [`crate::REGIONS`].
    pub sido: &'static str,
    /// 시군구 as addresses write it, from [`crate::REGIONS`].
    pub sigungu: &'static str,
    pub road_address: String,
    /// Landline in the 시도's area code, `02-123-4567`.
    pub phone: String,
    pub lat: f64,
    pub lon: f64,
    /// Sorted, no duplicates, never empty.
    pub departments: Vec<Department>,
    /// Hours Monday..Sunday and on public holidays (mostly closed).
    pub timetable: Timetable,
    pub announcement: Option<String>,
    /// 1–30; the first is the head (원장) whose name a clinic may carry.
    pub doctors: Vec<Doctor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doctor {
    pub name: String,
    /// A non-empty subset of the hospital's departments.
    pub departments: Vec<Department>,
    /// One line of education, board certification and interests.
    pub bio: String,
    pub accepts_online_booking: bool,
}
