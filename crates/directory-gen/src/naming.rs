//! A hospital's identity: its name, Latin name and departments, chosen together so they agree
//! (a `…내과의원` has 내과, a `…척추병원` has 신경외과 or 정형외과, a 치과의원 only 치과).

mod tables;

use docde_domain::directory::Department::{self, *};

use crate::hospital::HospitalType;
use crate::people;
use crate::rng::Rng;
use crate::romanize::romanize;
use tables::*;

pub(crate) struct Identity {
    pub name: String,
    pub latin_name: Option<String>,
    /// Sorted and deduplicated.
    pub departments: Vec<Department>,
    /// The department the hospital is known for (a clinic's named specialty).
    pub main: Department,
    /// The head doctor's name when the clinic is named after them (`김내과의원`).
    pub head: Option<String>,
}

impl Identity {
    /// `departments` lists the main department first.
    fn new(
        name: String,
        latin_name: Option<String>,
        mut departments: Vec<Department>,
        head: Option<String>,
    ) -> Self {
        let main = departments[0];
        departments.sort();
        departments.dedup();
        Self {
            name,
            latin_name,
            departments,
            main,
            head,
        }
    }
}

/// Departments a clinic often lists next to its main one, and doctors work in alongside it.
pub(crate) fn related(d: Department) -> &'static [Department] {
    match d {
        InternalMedicine => &[FamilyMedicine, Pediatrics],
        FamilyMedicine => &[InternalMedicine, Pediatrics, Dermatology],
        OrthopedicSurgery => &[RehabilitationMedicine, Anesthesiology, Neurosurgery],
        Neurosurgery => &[OrthopedicSurgery, Anesthesiology],
        Anesthesiology => &[OrthopedicSurgery, RehabilitationMedicine],
        RehabilitationMedicine => &[OrthopedicSurgery, Anesthesiology],
        Pediatrics => &[FamilyMedicine, Otorhinolaryngology],
        Otorhinolaryngology => &[Pediatrics],
        Dermatology => &[PlasticSurgery],
        PlasticSurgery => &[Dermatology],
        GeneralSurgery => &[InternalMedicine, ThoracicSurgery],
        ThoracicSurgery => &[GeneralSurgery],
        Neurology => &[Psychiatry],
        Psychiatry => &[Neurology],
        Radiology => &[InternalMedicine],
        KoreanMedicine => &[Acupuncture],
        KoreanRehabilitation => &[Acupuncture],
        Acupuncture => &[KoreanRehabilitation],
        _ => &[],
    }
}

/// `crowded` asks for the patterns with the most possible names (clinics named after their
/// head doctor), for when the usual ones are already taken in the 시군구.
pub(crate) fn identity(rng: &mut Rng, kind: HospitalType, stem: &str, crowded: bool) -> Identity {
    match kind {
        HospitalType::Clinic => clinic(rng, stem, crowded),
        HospitalType::DentalClinic => small(
            rng,
            stem,
            DENTAL_BRANDS,
            "치과의원",
            vec![Dentistry],
            crowded,
        ),
        HospitalType::KoreanMedicineClinic => {
            let mut departments = vec![*rng.weighted(KOREAN_MEDICINE)];
            if rng.percent(40) {
                departments.push(*rng.weighted(KOREAN_MEDICINE));
            }
            small(
                rng,
                stem,
                KOREAN_MEDICINE_BRANDS,
                "한의원",
                departments,
                crowded,
            )
        }
        HospitalType::NursingHospital => nursing(rng, stem),
        HospitalType::Hospital => hospital(rng, stem),
        HospitalType::GeneralHospital => general(rng, stem),
        HospitalType::TertiaryHospital => tertiary(rng, stem),
    }
}

/// 의원: `강남연세내과의원`, `밝은눈안과의원`, `김내과의원`, or without a specialty `하나의원`.
fn clinic(rng: &mut Rng, stem: &str, crowded: bool) -> Identity {
    let named_specialty = rng.percent(82);
    let main = if named_specialty {
        *rng.weighted(CLINIC_SPECIALTIES)
    } else {
        *rng.pick(GENERAL_PRACTICE)
    };
    let mut departments = vec![main];
    let related = related(main);
    if !related.is_empty() && rng.percent(35) {
        departments.push(*rng.pick(related));
    }
    if !named_specialty {
        // "…한의원" would read as a Korean medicine clinic: no brand ending in 한 before 의원.
        let brands: Vec<&str> = BRANDS
            .iter()
            .copied()
            .filter(|b| !b.ends_with('한'))
            .collect();
        return small(rng, stem, &brands, "의원", departments, crowded);
    }
    let suffix = format!("{}의원", main.ko());
    let extra = specialty_brands(main);
    let brand = if !extra.is_empty() && rng.percent(30) {
        *rng.pick(extra)
    } else {
        *rng.pick(BRANDS)
    };
    let pattern = if crowded { 19 } else { rng.below(20) };
    let (name, head) = match pattern {
        0..=7 => (format!("{stem}{brand}{suffix}"), None),
        8..=13 => (format!("{brand}{suffix}"), None),
        14..=16 => (format!("{stem}{suffix}"), None),
        _ => head_named(rng, &suffix),
    };
    Identity::new(name, None, departments, head)
}

/// A clinic named after its head doctor: `김내과의원` or `이정훈내과의원`.
fn head_named(rng: &mut Rng, suffix: &str) -> (String, Option<String>) {
    loop {
        let head = people::name(rng);
        let label = if rng.percent(50) {
            head.as_str()
        } else {
            people::surname_of(&head)
        };
        // 한 + 의원 reads as 한의원 (a Korean medicine clinic): 한내과의원 is fine, 한의원 is not.
        if suffix == "의원" && label.ends_with('한') {
            continue;
        }
        return (format!("{label}{suffix}"), Some(head));
    }
}

/// 치과의원, 한의원 and specialty-less 의원: brand, place or head doctor + suffix.
fn small(
    rng: &mut Rng,
    stem: &str,
    brands: &[&str],
    suffix: &str,
    departments: Vec<Department>,
    crowded: bool,
) -> Identity {
    let brand = *rng.pick(brands);
    let pattern = if crowded { 9 } else { rng.below(10) };
    let (name, head) = match pattern {
        0..=3 => (format!("{brand}{suffix}"), None),
        4..=6 => (format!("{stem}{brand}{suffix}"), None),
        7 => (format!("{stem}{suffix}"), None),
        _ => head_named(rng, suffix),
    };
    Identity::new(name, None, departments, head)
}

/// 요양병원: `부천사랑요양병원`, `평화요양병원`.
fn nursing(rng: &mut Rng, stem: &str) -> Identity {
    let brand = *rng.pick(NURSING_BRANDS);
    let (name, parts) = match rng.below(3) {
        0 => (
            format!("{stem}{brand}요양병원"),
            [romanize(stem), romanize(brand)],
        ),
        1 => (format!("{brand}요양병원"), [String::new(), romanize(brand)]),
        _ => (format!("{stem}요양병원"), [romanize(stem), String::new()]),
    };
    let latin_name = rng
        .percent(20)
        .then(|| latin(&[&parts[0], &parts[1], "Nursing Hospital"]));
    let mut departments = vec![InternalMedicine];
    departments.extend(choose(rng, NURSING_POOL, 1, 3));
    Identity::new(name, latin_name, departments, None)
}

/// 병원: general (`부평중앙병원`) or specialty (`분당척추병원`, `힘찬관절병원`).
fn hospital(rng: &mut Rng, stem: &str) -> Identity {
    let with_stem = rng.percent(70);
    let (place, place_en) = if with_stem {
        (stem, romanize(stem))
    } else {
        ("", String::new())
    };
    // A place name can stand alone (`분당척추병원`); without one, a brand is needed.
    let (brand, brand_en) = if with_stem && rng.percent(40) {
        ("", "")
    } else {
        *rng.pick(HOSPITAL_BRANDS)
    };
    let (name, latin_name, departments) = if rng.percent(50) {
        let specialty = rng.pick(SPECIALTY_HOSPITALS);
        let mut departments = specialty.main.to_vec();
        let companions = specialty.companions;
        departments.extend(choose(rng, companions, 1, companions.len()));
        (
            format!("{place}{brand}{}", specialty.suffix),
            latin(&[&place_en, brand_en, specialty.suffix_en]),
            departments,
        )
    } else {
        let mut departments = vec![InternalMedicine];
        departments.extend(choose(rng, HOSPITAL_POOL, 2, 7));
        (
            format!("{place}{brand}병원"),
            latin(&[&place_en, brand_en, "Hospital"]),
            departments,
        )
    };
    Identity::new(
        name,
        rng.percent(50).then_some(latin_name),
        departments,
        None,
    )
}

/// 종합병원: `안산중앙병원`, `진주의료원`, `인제대학교 해운대병원`.
fn general(rng: &mut Rng, stem: &str) -> Identity {
    let stem_en = romanize(stem);
    let (name, latin_name) = match rng.below(10) {
        0..=5 => {
            let (brand, brand_en) = *rng.pick(HOSPITAL_BRANDS);
            (
                format!("{stem}{brand}병원"),
                latin(&[&stem_en, brand_en, "Hospital"]),
            )
        }
        6 => (
            format!("{stem}의료원"),
            latin(&[&stem_en, "Medical Center"]),
        ),
        7 => (
            format!("{stem}병원"),
            latin(&[&stem_en, "General Hospital"]),
        ),
        _ => {
            let (univ, univ_en) = *rng.pick(UNIVERSITIES);
            (
                format!("{univ}대학교 {stem}병원"),
                latin(&[univ_en, "University", &stem_en, "Hospital"]),
            )
        }
    };
    let mut departments = GENERAL_CORE.to_vec();
    departments.extend(choose(rng, GENERAL_POOL, 2, 13));
    Identity::new(
        name,
        rng.percent(90).then_some(latin_name),
        departments,
        None,
    )
}

/// 상급종합병원: `강릉대학교병원`, `가톨릭대학교 대전성모병원`, `한림대학교 춘천병원`.
fn tertiary(rng: &mut Rng, stem: &str) -> Identity {
    let stem_en = romanize(stem);
    let (name, latin_name) = match rng.below(10) {
        0..=2 => (
            format!("{stem}대학교병원"),
            latin(&[&stem_en, "University Hospital"]),
        ),
        3..=5 => {
            let (univ, univ_en) = *rng.pick(UNIVERSITIES);
            (
                format!("{univ}대학교 {stem}병원"),
                latin(&[univ_en, "University", &stem_en, "Hospital"]),
            )
        }
        6 | 7 => (
            format!("가톨릭대학교 {stem}성모병원"),
            latin(&[
                "The Catholic University of Korea",
                &stem_en,
                "St. Mary's Hospital",
            ]),
        ),
        _ => (
            format!("{stem}세브란스병원"),
            latin(&[&stem_en, "Severance Hospital"]),
        ),
    };
    Identity::new(name, Some(latin_name), tertiary_departments(rng), None)
}

/// Every medical department a university hospital has, give or take a few small ones;
/// 내과 first.
pub(crate) fn tertiary_departments(rng: &mut Rng) -> Vec<Department> {
    Department::ALL
        .iter()
        .copied()
        .filter(|d| !matches!(d, KoreanMedicine | KoreanRehabilitation | Acupuncture))
        .filter(|d| {
            !matches!(
                d,
                NuclearMedicine | OccupationalMedicine | RadiationOncology
            ) || rng.percent(70)
        })
        .collect()
}

/// Between `min` and `max` (capped by the pool) distinct departments from `pool`.
fn choose(rng: &mut Rng, pool: &[Department], min: usize, max: usize) -> Vec<Department> {
    let max = max.min(pool.len());
    let n = rng.between(min.min(max) as u32, max as u32) as usize;
    let mut pool = pool.to_vec();
    for i in 0..n {
        let j = i + rng.below(pool.len() - i);
        pool.swap(i, j);
    }
    pool.truncate(n);
    pool
}

/// Joins the non-empty parts with single spaces.
fn latin(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}
