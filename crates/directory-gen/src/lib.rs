//! Deterministic, realistic Korean hospital directory data for demos and benchmarks.
//!
//! This crate owns the *content* of generated directories: region tables (17 시도, ~250 real
//! 시군구 with approximate centroids and area codes), plausible hospital names that agree with
//! their type and departments, road addresses, phones, coordinates, timetables, announcements
//! and doctors with Korean names and bios. `docde demo` loads a few thousand hospitals from it,
//! `docde seed-directory` a hundred thousand for benchmarks.
//!
//! It must stay pure: no IO, no async, no database, no clock, no global state. The same seed
//! yields the same hospitals in the same order on every platform and in every release of this
//! crate that does not say otherwise, so a seed can name a benchmark data set. Output is
//! produced lazily and in linear time (~1 M doctors for 100 k hospitals; see
//! `examples/throughput.rs`).
//!
//! Departments and opening hours are `docde-domain`'s own types, so everything generated is
//! already valid for the API and the store: hours are built through `DayHours::new`, and
//! department codes are the fixed list the API checks.
//!
//! ```
//! let mut generator = docde_directory_gen::Generator::new(42);
//! let hospitals: Vec<_> = generator.hospitals(30).collect();
//! assert_eq!(hospitals[0].name, "서울대학교병원");
//! assert!(hospitals.iter().all(|h| (1..=30).contains(&h.doctors.len())));
//! ```

mod famous;
mod hospital;
mod hours;
mod naming;
mod people;
mod place;
mod region;
mod rng;
mod romanize;

use std::collections::HashSet;

pub use docde_domain::directory::{DayHours, Department, Timetable};
pub use hospital::{Doctor, Hospital, HospitalType};
pub use region::{REGIONS, Region, SIDOS, Sido, region, sido};
pub use romanize::romanize;

use famous::{FAMOUS, Famous};
use people::Staffing;
use rng::Rng;

/// How many hospitals of each type per thousand. Real Korea has more 치과의원 and 한의원
/// relative to 의원 (HIRA 2024: ~36k 의원, 19k 치과의원, 15k 한의원, 1.4k 병원, 1.4k
/// 요양병원, 330 종합병원, 47 상급종합병원); the mix leans to 의원 and keeps enough big
/// hospitals that a benchmark's result pages contain every type.
const TYPE_MIX: &[(HospitalType, u32)] = &[
    (HospitalType::Clinic, 620),
    (HospitalType::DentalClinic, 170),
    (HospitalType::KoreanMedicineClinic, 130),
    (HospitalType::Hospital, 35),
    (HospitalType::NursingHospital, 30),
    (HospitalType::GeneralHospital, 12),
    (HospitalType::TertiaryHospital, 3),
];

/// How often the generator retries a name already used in the same 시군구 before accepting
/// the duplicate (real directories have a few: two 연세내과의원 in one 구). After
/// `CROWDED_AFTER` attempts it switches to the patterns with the most possible names, which
/// keeps duplicates near 0.2% at 100 k hospitals.
const NAME_ATTEMPTS: usize = 8;
const CROWDED_AFTER: usize = 3;

/// A seeded generator of hospitals. The first hospitals are always the famous real ones
/// (서울대학교병원, 분당서울대학교병원, 서울아산병원, 삼성서울병원, …), then generated ones.
/// Generating in chunks gives the same sequence as generating at once.
pub struct Generator {
    rng: Rng,
    emitted: usize,
    /// Running sums of `REGIONS` weights, for picking a region by binary search.
    cumulative: Vec<u64>,
    /// (region index, name) pairs used so far, to keep names unique within a 시군구.
    taken: HashSet<(usize, String)>,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        let cumulative = REGIONS
            .iter()
            .scan(0u64, |sum, r| {
                *sum += u64::from(r.weight);
                Some(*sum)
            })
            .collect();
        Self {
            rng: Rng::new(seed),
            emitted: 0,
            cumulative,
            taken: HashSet::new(),
        }
    }

    /// The next `n` hospitals, generated lazily.
    pub fn hospitals(&mut self, n: usize) -> impl Iterator<Item = Hospital> + '_ {
        (0..n).map(move |_| self.hospital())
    }

    /// The next hospital.
    pub fn hospital(&mut self) -> Hospital {
        let index = self.emitted;
        self.emitted += 1;
        match FAMOUS.get(index) {
            Some(famous) => self.famous(famous),
            None => self.generated(),
        }
    }

    fn generated(&mut self) -> Hospital {
        let kind = *self.rng.weighted(TYPE_MIX);
        let region_index = self.pick_region();
        let region = &REGIONS[region_index];
        let stems = place::stems(region);
        let (stem, identity) = {
            let mut attempt = 0;
            loop {
                let stem = *self.rng.pick(&stems);
                let identity =
                    naming::identity(&mut self.rng, kind, stem, attempt >= CROWDED_AFTER);
                attempt += 1;
                if self.taken.insert((region_index, identity.name.clone()))
                    || attempt == NAME_ATTEMPTS
                {
                    break (stem, identity);
                }
            }
        };
        let small = matches!(
            kind,
            HospitalType::Clinic | HospitalType::DentalClinic | HospitalType::KoreanMedicineClinic
        );
        let road_address = place::road_address(&mut self.rng, region, stem, small);
        let phone = place::phone(&mut self.rng, region);
        let (lat, lon) = place::coordinates(&mut self.rng, region);
        let timetable = hours::timetable(&mut self.rng, kind);
        let announcement = hours::announcement(&mut self.rng);
        let staffing = Staffing {
            departments: &identity.departments,
            main: identity.main,
            small,
            university: identity.name.contains("대학교"),
            booking_rate: self.booking_rate(),
        };
        let doctors = self.doctors(kind, &staffing, identity.head.clone());
        Hospital {
            name: identity.name,
            latin_name: identity.latin_name,
            hospital_type: kind,
            sido: region.sido,
            sigungu: region.sigungu,
            road_address,
            phone,
            lat,
            lon,
            departments: identity.departments,
            timetable,
            announcement,
            doctors,
        }
    }

    fn famous(&mut self, famous: &Famous) -> Hospital {
        let (region_index, region) = REGIONS
            .iter()
            .enumerate()
            .find(|(_, r)| r.sido == famous.sido && r.sigungu == famous.sigungu)
            .expect("every famous hospital's 시군구 is in REGIONS");
        self.taken.insert((region_index, famous.name.to_owned()));
        let kind = HospitalType::TertiaryHospital;
        let departments = naming::tertiary_departments(&mut self.rng);
        let staffing = Staffing {
            departments: &departments,
            main: Department::InternalMedicine,
            small: false,
            university: true,
            booking_rate: self.booking_rate(),
        };
        let doctors = self.doctors(kind, &staffing, None);
        Hospital {
            name: famous.name.to_owned(),
            latin_name: Some(famous.latin_name.to_owned()),
            hospital_type: kind,
            sido: region.sido,
            sigungu: region.sigungu,
            road_address: format!("{} {}", region.address_prefix(), famous.road),
            phone: place::phone(&mut self.rng, region),
            lat: famous.lat,
            lon: famous.lon,
            timetable: hours::timetable(&mut self.rng, kind),
            announcement: hours::announcement(&mut self.rng),
            departments,
            doctors,
        }
    }

    fn pick_region(&mut self) -> usize {
        let total = *self.cumulative.last().expect("REGIONS is not empty");
        let ticket = self.rng.below(total as usize) as u64;
        self.cumulative.partition_point(|&sum| sum <= ticket)
    }

    /// Share of a hospital's doctors that take online bookings: hospitals tend to be all in
    /// or mostly out.
    fn booking_rate(&mut self) -> u32 {
        *self.rng.pick(&[20, 50, 80, 95])
    }

    fn doctors(
        &mut self,
        kind: HospitalType,
        staffing: &Staffing<'_>,
        head: Option<String>,
    ) -> Vec<Doctor> {
        let count = self.doctor_count(kind);
        let mut names: Vec<String> = Vec::with_capacity(count);
        names.extend(head);
        while names.len() < count {
            let name = people::name(&mut self.rng);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
            .into_iter()
            .enumerate()
            .map(|(i, name)| people::doctor(&mut self.rng, name, staffing, i == 0))
            .collect()
    }

    /// Doctors per hospital. Deliberately more than reality (a real 의원 has one or two
    /// doctors) so that 100 k hospitals carry ~1 M doctors, the scale the search benchmark
    /// is specified at; big hospitals still have more than small ones.
    fn doctor_count(&mut self, kind: HospitalType) -> usize {
        let rng = &mut self.rng;
        let (min, max) = kind.doctor_range();
        let spread = |rng: &mut Rng, tiers: [(u32, u32, u32); 3]| {
            let roll = rng.below(100) as u32;
            let mut acc = 0;
            for (percent, lo, hi) in tiers {
                acc += percent;
                if roll < acc {
                    return rng.between(lo, hi) as usize;
                }
            }
            unreachable!("tiers add up to 100")
        };
        match kind {
            HospitalType::Clinic => spread(rng, [(25, 1, 1), (20, 2, 5), (55, 6, 30)]),
            HospitalType::DentalClinic => spread(rng, [(30, 1, 1), (25, 2, 5), (45, 6, 25)]),
            HospitalType::KoreanMedicineClinic => {
                spread(rng, [(40, 1, 1), (30, 2, 4), (30, 5, 15)])
            }
            _ => rng.between(min as u32, max as u32) as usize,
        }
    }
}
