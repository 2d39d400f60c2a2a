//! What a generated directory promises: determinism, valid values everywhere, consistent
//! names and departments, and realistic proportions.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use docde_directory_gen::{
    Department, Generator, Hospital, HospitalType, REGIONS, SIDOS, region, sido,
};

/// Ten thousand hospitals from one seed, shared by the tests that only read them.
fn sample() -> &'static [Hospital] {
    static SAMPLE: OnceLock<Vec<Hospital>> = OnceLock::new();
    SAMPLE.get_or_init(|| Generator::new(20_261_122).hospitals(10_000).collect())
}

fn share(count: usize, of: usize) -> f64 {
    count as f64 / of as f64
}

fn is_korean_medicine(d: Department) -> bool {
    matches!(
        d,
        Department::KoreanMedicine | Department::KoreanRehabilitation | Department::Acupuncture
    )
}

#[test]
fn the_same_seed_generates_identical_hospitals() {
    let a: Vec<_> = Generator::new(7).hospitals(2_000).collect();
    let b: Vec<_> = Generator::new(7).hospitals(2_000).collect();
    assert_eq!(a, b);
}

#[test]
fn different_seeds_generate_different_directories() {
    let a: Vec<_> = Generator::new(1).hospitals(200).collect();
    let b: Vec<_> = Generator::new(2).hospitals(200).collect();
    let differing = a.iter().zip(&b).filter(|(x, y)| x.name != y.name).count();
    assert!(differing > 150, "only {differing} of 200 names differ");
}

#[test]
fn generating_in_chunks_gives_the_same_sequence_as_generating_at_once() {
    let at_once: Vec<_> = Generator::new(99).hospitals(500).collect();
    let mut generator = Generator::new(99);
    let mut chunked: Vec<_> = generator.hospitals(123).collect();
    chunked.extend(generator.hospitals(77));
    while chunked.len() < 500 {
        chunked.push(generator.hospital());
    }
    assert_eq!(at_once, chunked);
}

#[test]
fn the_famous_hospitals_come_first_so_small_demos_contain_them() {
    let first: Vec<_> = Generator::new(3).hospitals(30).collect();
    let find = |name: &str| first.iter().find(|h| h.name == name);
    let snuh = find("서울대학교병원").expect("서울대학교병원");
    assert_eq!(snuh.road_address, "서울특별시 종로구 대학로 101");
    assert_eq!(
        snuh.latin_name.as_deref(),
        Some("Seoul National University Hospital")
    );
    let bundang = find("분당서울대학교병원").expect("분당서울대학교병원");
    assert_eq!(bundang.sigungu, "성남시 분당구");
    for name in [
        "서울아산병원",
        "삼성서울병원",
        "서울성모병원",
        "세브란스병원",
    ] {
        let h = find(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(h.hospital_type, HospitalType::TertiaryHospital);
    }
}

#[test]
fn regions_cover_all_seventeen_sido_with_real_sigungu() {
    assert_eq!(SIDOS.len(), 17);
    assert!(REGIONS.len() >= 120, "{} regions", REGIONS.len());
    let pairs: HashSet<_> = REGIONS.iter().map(|r| (r.sido, r.sigungu)).collect();
    assert_eq!(
        pairs.len(),
        REGIONS.len(),
        "(시도, 시군구) pairs are unique"
    );
    for s in SIDOS {
        assert!(
            REGIONS.iter().any(|r| r.sido == s.name),
            "{} has regions",
            s.name
        );
    }
    let seoul = REGIONS.iter().filter(|r| r.sido == "서울특별시").count();
    assert_eq!(seoul, 25, "every Seoul 구");
    for r in REGIONS {
        assert!(
            (33.0..=38.7).contains(&r.lat) && (124.5..=131.9).contains(&r.lon),
            "{r:?}"
        );
        assert_eq!(
            r.phone_prefix,
            sido(r.sido).expect("known 시도").phone_prefix
        );
        assert!(r.weight > 0);
    }
}

#[test]
fn every_hospital_sits_in_a_known_region_inside_korea() {
    for h in sample() {
        let r = region(h.sido, h.sigungu)
            .unwrap_or_else(|| panic!("{} {} is not in REGIONS", h.sido, h.sigungu));
        assert!(
            (33.0..=38.7).contains(&h.lat) && (124.5..=131.9).contains(&h.lon),
            "{} at {}, {}",
            h.name,
            h.lat,
            h.lon
        );
        let km = ((h.lat - r.lat) * 111.0).hypot((h.lon - r.lon) * 89.0);
        assert!(km < 10.0, "{} is {km:.1} km from {}", h.name, h.sigungu);
    }
}

#[test]
fn road_addresses_begin_with_sido_and_sigungu() {
    for h in sample() {
        let prefix = region(h.sido, h.sigungu).unwrap().address_prefix();
        let rest = h
            .road_address
            .strip_prefix(&format!("{prefix} "))
            .unwrap_or_else(|| panic!("{:?} does not start with {prefix:?}", h.road_address));
        let mut words = rest.split(' ');
        let road = words.next().unwrap();
        assert!(
            road.ends_with('로') || road.ends_with('길'),
            "{:?}",
            h.road_address
        );
        let number = words.next().unwrap().trim_end_matches(',');
        assert!(
            number
                .split('-')
                .all(|n| n.parse::<u32>().is_ok_and(|n| n > 0)),
            "{:?}",
            h.road_address
        );
    }
}

#[test]
fn phone_numbers_use_the_area_code_of_the_sido() {
    for h in sample() {
        let parts: Vec<_> = h.phone.split('-').collect();
        assert_eq!(parts.len(), 3, "{}", h.phone);
        assert_eq!(parts[0], sido(h.sido).unwrap().phone_prefix, "{}", h.phone);
        assert!((3..=4).contains(&parts[1].len()), "{}", h.phone);
        assert_eq!(parts[2].len(), 4, "{}", h.phone);
        assert!(parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())));
    }
}

#[test]
fn opening_hours_close_after_opening_with_lunch_inside_them() {
    let mut sundays_open = 0;
    let mut holidays_open = 0;
    for h in sample() {
        let t = &h.timetable;
        for hours in t.weekly.iter().chain([&t.holiday]).flatten() {
            assert!(
                hours.close() > hours.open() && hours.close() <= 1440,
                "{}",
                h.name
            );
            if let Some((start, end)) = hours.lunch() {
                assert!(hours.open() < start && start < end && end < hours.close());
            }
            if h.hospital_type == HospitalType::TertiaryHospital {
                assert_eq!(hours.lunch(), None, "{} has no lunch break", h.name);
            }
        }
        assert!(
            t.weekly[..5].iter().all(Option::is_some),
            "{} opens on weekdays",
            h.name
        );
        sundays_open += usize::from(t.weekly[6].is_some());
        holidays_open += usize::from(t.holiday.is_some());
    }
    let n = sample().len();
    assert!(
        share(sundays_open, n) < 0.15,
        "{sundays_open} open on Sunday"
    );
    assert!(
        share(holidays_open, n) < 0.15,
        "{holidays_open} open on holidays"
    );
}

#[test]
fn doctor_counts_stay_between_one_and_thirty_and_grow_with_hospital_size() {
    let mut by_type: HashMap<HospitalType, (usize, usize)> = HashMap::new();
    for h in sample() {
        assert!((1..=30).contains(&h.doctors.len()), "{}", h.doctors.len());
        let entry = by_type.entry(h.hospital_type).or_default();
        entry.0 += h.doctors.len();
        entry.1 += 1;
    }
    let mean = |t| {
        let (doctors, hospitals) = by_type[&t];
        share(doctors, hospitals)
    };
    assert!(mean(HospitalType::TertiaryHospital) > mean(HospitalType::GeneralHospital));
    assert!(mean(HospitalType::GeneralHospital) > mean(HospitalType::Hospital));
    assert!(mean(HospitalType::Hospital) > mean(HospitalType::Clinic));
}

#[test]
fn ten_thousand_hospitals_carry_about_a_hundred_thousand_doctors() {
    let doctors: usize = sample().iter().map(|h| h.doctors.len()).sum();
    assert!((80_000..=120_000).contains(&doctors), "{doctors} doctors");
}

#[test]
fn clinics_are_the_large_majority_and_every_type_occurs() {
    let n = sample().len();
    let count = |t| sample().iter().filter(|h| h.hospital_type == t).count();
    assert!(share(count(HospitalType::Clinic), n) > 0.6);
    for &t in HospitalType::ALL {
        assert!(count(t) > 0, "{t:?} occurs");
    }
    assert!(share(count(HospitalType::TertiaryHospital), n) < 0.01);
    let small = count(HospitalType::Clinic)
        + count(HospitalType::DentalClinic)
        + count(HospitalType::KoreanMedicineClinic);
    assert!(share(small, n) > 0.85);
}

/// The department a name advertises: the longest `…{과}의원` / `…{과}병원` suffix.
fn named_department(name: &str) -> Option<Department> {
    Department::ALL
        .iter()
        .copied()
        .filter(|d| {
            name.ends_with(&format!("{}의원", d.ko())) || name.ends_with(&format!("{}병원", d.ko()))
        })
        .max_by_key(|d| d.ko().chars().count())
}

#[test]
fn departments_agree_with_the_name_and_type() {
    for h in sample() {
        let d = &h.departments;
        assert!(!d.is_empty(), "{}", h.name);
        assert!(d.windows(2).all(|w| w[0] < w[1]), "sorted, unique: {d:?}");
        if let Some(named) = named_department(&h.name) {
            assert!(d.contains(&named), "{} lacks {}", h.name, named.ko());
        }
        let kind = h.hospital_type;
        assert_eq!(
            h.name.ends_with("한의원"),
            kind == HospitalType::KoreanMedicineClinic,
            "{}",
            h.name
        );
        assert_eq!(
            h.name.ends_with("치과의원"),
            kind == HospitalType::DentalClinic,
            "{}",
            h.name
        );
        assert_eq!(
            h.name.ends_with("요양병원"),
            kind == HospitalType::NursingHospital,
            "{}",
            h.name
        );
        match kind {
            HospitalType::DentalClinic => assert_eq!(d, &[Department::Dentistry]),
            HospitalType::KoreanMedicineClinic => {
                assert!(d.iter().all(|&x| is_korean_medicine(x)), "{d:?}")
            }
            HospitalType::Clinic => {
                assert!(h.name.ends_with("의원"), "{}", h.name);
                assert!(
                    d.iter()
                        .all(|&x| !is_korean_medicine(x) && x != Department::Dentistry)
                );
            }
            HospitalType::Hospital | HospitalType::NursingHospital => {
                assert!(h.name.ends_with("병원"), "{}", h.name)
            }
            HospitalType::GeneralHospital => {
                assert!(
                    h.name.ends_with("병원") || h.name.ends_with("의료원"),
                    "{}",
                    h.name
                );
                assert!(d.len() >= 9, "{}: {} departments", h.name, d.len());
            }
            HospitalType::TertiaryHospital => {
                assert!(h.name.ends_with("병원"), "{}", h.name);
                assert!(d.len() >= 20, "{}: {} departments", h.name, d.len());
            }
        }
    }
}

#[test]
fn doctors_work_in_departments_their_hospital_has() {
    for h in sample() {
        let names: HashSet<_> = h.doctors.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names.len(),
            h.doctors.len(),
            "{}: doctor names repeat",
            h.name
        );
        for doctor in &h.doctors {
            assert!(!doctor.departments.is_empty());
            assert!(
                doctor.departments.iter().all(|d| h.departments.contains(d)),
                "{} works in {:?}, {} has {:?}",
                doctor.name,
                doctor.departments,
                h.name,
                h.departments
            );
            assert!(!doctor.bio.is_empty());
        }
    }
}

#[test]
fn doctor_names_are_korean_and_follow_surname_frequencies() {
    let doctors: Vec<_> = sample().iter().flat_map(|h| &h.doctors).collect();
    for d in &doctors {
        assert!((3..=4).contains(&d.name.chars().count()), "{}", d.name);
        assert!(
            d.name.chars().all(|c| ('가'..='힣').contains(&c)),
            "{}",
            d.name
        );
    }
    let kims = doctors.iter().filter(|d| d.name.starts_with('김')).count();
    let lees = doctors.iter().filter(|d| d.name.starts_with('이')).count();
    let kim_share = share(kims, doctors.len());
    assert!((0.17..0.26).contains(&kim_share), "김 {kim_share:.3}");
    assert!(kims > lees && lees > doctors.len() / 10);
    let booking = doctors.iter().filter(|d| d.accepts_online_booking).count();
    assert!((0.3..0.9).contains(&share(booking, doctors.len())));
}

#[test]
fn names_are_mostly_unique_within_a_sigungu() {
    let distinct: HashSet<_> = sample()
        .iter()
        .map(|h| (h.sido, h.sigungu, h.name.as_str()))
        .collect();
    let duplicates = sample().len() - distinct.len();
    assert!(
        share(duplicates, sample().len()) < 0.01,
        "{duplicates} duplicates"
    );
}

#[test]
fn bigger_hospitals_have_latin_names_and_clinics_do_not() {
    for h in sample() {
        match h.hospital_type {
            HospitalType::TertiaryHospital => assert!(h.latin_name.is_some(), "{}", h.name),
            HospitalType::Clinic
            | HospitalType::DentalClinic
            | HospitalType::KoreanMedicineClinic => assert_eq!(h.latin_name, None),
            _ => {}
        }
        if let Some(latin) = &h.latin_name {
            assert!(latin.is_ascii() && latin.contains(' '), "{latin}");
            assert!(
                !latin.starts_with(' ') && !latin.contains("  "),
                "{latin:?}"
            );
        }
    }
}

#[test]
fn hospital_type_codes_match_the_store_schema() {
    let codes: Vec<_> = HospitalType::ALL.iter().map(|t| t.code()).collect();
    assert_eq!(
        codes,
        [
            "clinic",
            "hospital",
            "general_hospital",
            "tertiary_hospital",
            "dental_clinic",
            "korean_medicine_clinic",
            "nursing_hospital"
        ]
    );
    for &t in HospitalType::ALL {
        assert_eq!(HospitalType::from_code(t.code()), Some(t));
    }
}
