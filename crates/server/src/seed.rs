//! Loading generated directory data (`docde seed-directory`, the demo, benchmarks).

use chrono::Utc;
use docde_directory_gen::{Generator, Hospital};
use docde_store::Store;
use docde_store::directory::{self, DoctorFacts, HospitalFacts, Hours, NewDirectoryHospital};
use uuid::Uuid;

/// Hospitals per transaction: big enough to amortise commits, small enough to keep memory
/// and the writer's hold on SQLite short.
const BATCH: usize = 2_000;

/// What was loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub hospitals: usize,
    pub doctors: usize,
}

/// Generates `count` hospitals from `seed` (deterministic) and stores them with their doctors.
pub async fn seed_directory(
    store: &Store,
    count: usize,
    seed: u64,
    mut progress: impl FnMut(Seeded),
) -> anyhow::Result<Seeded> {
    let mut generator = Generator::new(seed);
    let mut done = Seeded::default();
    let mut batch = Vec::with_capacity(BATCH);
    for hospital in generator.hospitals(count) {
        batch.push(to_store(hospital));
        if batch.len() == BATCH {
            done = flush(store, &mut batch, done).await?;
            progress(done);
        }
    }
    done = flush(store, &mut batch, done).await?;
    progress(done);
    Ok(done)
}

async fn flush(
    store: &Store,
    batch: &mut Vec<NewDirectoryHospital>,
    mut done: Seeded,
) -> anyhow::Result<Seeded> {
    if batch.is_empty() {
        return Ok(done);
    }
    directory::bulk_insert(store, batch, Utc::now()).await?;
    done.hospitals += batch.len();
    done.doctors += batch.iter().map(|h| h.doctors.len()).sum::<usize>();
    batch.clear();
    Ok(done)
}

fn to_store(h: Hospital) -> NewDirectoryHospital {
    let mut hours: Vec<Hours> = h
        .timetable
        .weekly
        .iter()
        .enumerate()
        .filter_map(|(day, d)| {
            d.map(|d| Hours {
                day: day as u8,
                open: d.open(),
                close: d.close(),
                lunch: d.lunch(),
            })
        })
        .collect();
    if let Some(d) = h.timetable.holiday {
        hours.push(Hours {
            day: 7,
            open: d.open(),
            close: d.close(),
            lunch: d.lunch(),
        });
    }
    let doctors = h
        .doctors
        .into_iter()
        .map(|d| {
            let facts = DoctorFacts {
                name: d.name,
                bio: Some(d.bio),
                accepts_online_booking: d.accepts_online_booking,
                departments: d.departments.iter().map(|x| x.code().to_owned()).collect(),
                user_id: None,
            };
            (Uuid::now_v7(), facts)
        })
        .collect();
    NewDirectoryHospital {
        id: Uuid::now_v7(),
        facts: HospitalFacts {
            name: h.name,
            latin_name: h.latin_name,
            hospital_type: h.hospital_type.code().to_owned(),
            sido: Some(h.sido.to_owned()),
            sigungu: Some(h.sigungu.to_owned()),
            road_address: Some(h.road_address),
            phone: Some(h.phone),
            lat: Some(h.lat),
            lon: Some(h.lon),
            announcement: h.announcement,
            hours,
            departments: h.departments.iter().map(|d| d.code().to_owned()).collect(),
        },
        doctors,
    }
}
