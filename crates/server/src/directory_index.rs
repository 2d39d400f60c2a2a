//! This instance's directory search index: built in the background at start from the
//! database, kept current by every directory write made here (applied before the write is
//! answered) and by change notices from other instances (through the bus, so within
//! milliseconds with Redis). The database stays the truth; the index is derived and can be
//! rebuilt at any time (`POST /api/v1/admin/search/reindex`, `docde reindex`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use docde_bus::Message;
use docde_domain::directory::Department;
use docde_search::{DayHours, DoctorDoc, HospitalDoc, SearchIndex};
use docde_store::Store;
use docde_store::directory::{self, DirectoryHospital, Doctor};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::api::directory::HospitalType;
use crate::state::AppState;

/// The search types a caller of this index needs (the CLI's benchmark builds queries with them).
pub use docde_search::{HospitalQuery, MAX_LIMIT, TOTAL_CAP};

const TOPIC: &str = "directory";

/// What changed in the directory.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Hospital { id: Uuid },
    Doctor { id: Uuid, hospital_id: Uuid },
    Rebuild,
}

#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The instance that made the change (it has applied it already).
    origin: Uuid,
    change: Change,
}

/// Figures of one build.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BuildStats {
    pub hospitals: usize,
    pub doctors: usize,
    pub load_ms: u128,
    pub index_ms: u128,
    pub memory_bytes: usize,
    /// Estimated heap bytes of the in-memory hospital cards (search result summaries).
    pub card_bytes: usize,
}

/// What a hospital search result shows of a hospital, kept in memory next to the index so a
/// search never waits for the database.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalCard {
    pub name: String,
    /// The type's code (`clinic`, `tertiary_hospital` …).
    pub hospital_type: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub road_address: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

impl HospitalCard {
    fn of(h: &DirectoryHospital) -> Self {
        Self {
            name: h.name.clone(),
            hospital_type: h.hospital_type.clone(),
            sido: h.sido.clone(),
            sigungu: h.sigungu.clone(),
            road_address: h.road_address.clone(),
            phone: h.phone.clone(),
            lat: h.lat,
            lon: h.lon,
        }
    }
}

/// The cards of every live hospital, by id.
pub type Cards = RwLock<HashMap<Uuid, Arc<HospitalCard>>>;

#[derive(Clone)]
struct Built {
    index: SearchIndex,
    cards: Arc<Cards>,
}

pub struct DirectoryIndex {
    built: RwLock<Option<Built>>,
    instance: Uuid,
}

impl DirectoryIndex {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            built: RwLock::new(None),
            instance: Uuid::now_v7(),
        })
    }

    fn built(&self) -> Option<Built> {
        self.built.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The index, once built.
    pub fn get(&self) -> Option<SearchIndex> {
        self.built().map(|b| b.index)
    }

    /// The index and the hospital cards that go with it, once built.
    pub fn with_cards(&self) -> Option<(SearchIndex, Arc<Cards>)> {
        self.built().map(|b| (b.index, b.cards))
    }

    /// Builds a fresh index from the database and swaps it in.
    pub async fn rebuild(&self, store: &Store) -> anyhow::Result<BuildStats> {
        let (index, cards, stats) = build(store).await?;
        *self.built.write().unwrap_or_else(|e| e.into_inner()) = Some(Built {
            index,
            cards: Arc::new(RwLock::new(cards)),
        });
        Ok(stats)
    }

    /// Applies a change to this instance's index, reading the current state from the database.
    pub async fn apply(&self, store: &Store, change: Change) -> anyhow::Result<()> {
        let Some(Built { index, cards }) = self.built() else {
            // Not built yet: the build reads the database after this change committed.
            return Ok(());
        };
        match change {
            Change::Rebuild => {
                self.rebuild(store).await?;
            }
            Change::Hospital { id }
            | Change::Doctor {
                hospital_id: id, ..
            } => {
                let hospital = directory::get_hospital(store, id).await?;
                let doctors = match &hospital {
                    Some(_) => directory::doctors(store, Some(id)).await?,
                    None => Vec::new(),
                };
                // tantivy commits block: keep them off the async workers.
                tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                    match hospital {
                        None => {
                            index.delete_hospital(id)?;
                            cards.write().unwrap_or_else(|e| e.into_inner()).remove(&id);
                        }
                        Some(h) => {
                            // the hospital and all its doctors, in one commit per index
                            let doctor_docs: Vec<DoctorDoc> =
                                doctors.iter().map(|d| doctor_doc(d, &h)).collect();
                            index.replace_hospital(&hospital_doc(&h, &doctors), &doctor_docs)?;
                            cards
                                .write()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(id, Arc::new(HospitalCard::of(&h)));
                        }
                    }
                    Ok(())
                })
                .await??;
            }
        }
        Ok(())
    }
}

/// Applies a directory change here and tells the other instances. Called by every directory
/// write after its commit; the write's answer waits for the local index, so a search right
/// after it sees the change.
pub async fn changed(state: &AppState, change: Change) {
    if let Err(e) = state.directory.apply(&state.store, change).await {
        tracing::error!(
            error = format!("{e:#}"),
            ?change,
            "search index update failed; rebuilding"
        );
        if let Err(e) = state.directory.rebuild(&state.store).await {
            tracing::error!(error = format!("{e:#}"), "search index rebuild failed");
        }
    }
    let notice = Notice {
        origin: state.directory.instance,
        change,
    };
    if let Ok(payload) = serde_json::to_vec(&notice)
        && let Err(e) = state.bus.publish(TOPIC, payload).await
    {
        tracing::warn!(error = %e, "directory change notice not sent; other instances catch up at their next rebuild");
    }
}

/// Asks every instance sharing this bus to rebuild its index from the database.
pub async fn broadcast_rebuild(bus: &docde_bus::Bus) -> anyhow::Result<()> {
    let notice = Notice {
        origin: Uuid::nil(),
        change: Change::Rebuild,
    };
    bus.publish(TOPIC, serde_json::to_vec(&notice)?).await?;
    Ok(())
}

/// Builds an index from the database without serving it: for `docde reindex`'s figures.
pub async fn build_offline(store: &Store) -> anyhow::Result<BuildStats> {
    Ok(build(store).await?.2)
}

/// Builds the index at start, then applies other instances' notices until shutdown.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    let mut notices = state.bus.subscribe(TOPIC);
    tokio::spawn(async move {
        match state.directory.rebuild(&state.store).await {
            Ok(s) => tracing::info!(
                hospitals = s.hospitals,
                doctors = s.doctors,
                load_ms = s.load_ms,
                index_ms = s.index_ms,
                memory_mb = s.memory_bytes / (1024 * 1024),
                "search index built"
            ),
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "search index build failed; search answers 503"
            ),
        }
        loop {
            let message = tokio::select! {
                _ = state.shutdown.cancelled() => return,
                m = notices.recv() => m,
            };
            let change = match message {
                Some(Message::Data(bytes)) => match serde_json::from_slice::<Notice>(&bytes) {
                    Ok(n) if n.origin != state.directory.instance => n.change,
                    Ok(_) => continue,
                    Err(_) => continue,
                },
                // Missed notices: the only safe catch-up is a rebuild.
                Some(Message::Lagged(_)) => Change::Rebuild,
                None => return,
            };
            if let Err(e) = state.directory.apply(&state.store, change).await {
                tracing::error!(
                    error = format!("{e:#}"),
                    "applying a directory change notice failed"
                );
            }
        }
    })
}

async fn build(
    store: &Store,
) -> anyhow::Result<(SearchIndex, HashMap<Uuid, Arc<HospitalCard>>, BuildStats)> {
    let started = Instant::now();
    // two readers at once: the doctors (the long part) load while the hospitals do
    let (hospitals, doctors) = tokio::try_join!(
        directory::all_hospitals(store),
        directory::doctors(store, None)
    )?;
    let load_ms = started.elapsed().as_millis();
    let started = Instant::now();
    type Output = (
        SearchIndex,
        HashMap<Uuid, Arc<HospitalCard>>,
        (usize, usize),
    );
    let (index, cards, counts) = tokio::task::spawn_blocking(move || -> anyhow::Result<Output> {
        let mut by_hospital: HashMap<Uuid, Vec<&Doctor>> = HashMap::new();
        for d in &doctors {
            by_hospital.entry(d.hospital_id).or_default().push(d);
        }
        let by_id: HashMap<Uuid, &DirectoryHospital> =
            hospitals.iter().map(|h| (h.id, h)).collect();
        let hospital_docs = hospitals.iter().map(|h| {
            let own = by_hospital
                .get(&h.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            hospital_doc(h, own.iter().copied())
        });
        let doctor_docs = doctors
            .iter()
            .filter_map(|d| by_id.get(&d.hospital_id).map(|h| doctor_doc(d, h)));
        let index = SearchIndex::build(hospital_docs, doctor_docs)?;
        let cards = hospitals
            .iter()
            .map(|h| (h.id, Arc::new(HospitalCard::of(h))))
            .collect();
        Ok((index, cards, (hospitals.len(), doctors.len())))
    })
    .await??;
    let stats = BuildStats {
        hospitals: counts.0,
        doctors: counts.1,
        load_ms,
        index_ms: started.elapsed().as_millis(),
        memory_bytes: index.memory_bytes(),
        card_bytes: card_bytes(&cards),
    };
    Ok((index, cards, stats))
}

/// Estimated heap bytes of a card map: entries (with the hash table's spare room) and strings.
pub fn card_bytes(cards: &HashMap<Uuid, Arc<HospitalCard>>) -> usize {
    let slot = std::mem::size_of::<(Uuid, Arc<HospitalCard>)>() + 1;
    let card = std::mem::size_of::<HospitalCard>() + 2 * std::mem::size_of::<usize>();
    let text: usize = cards
        .values()
        .map(|c| {
            c.name.capacity()
                + c.hospital_type.capacity()
                + [&c.sido, &c.sigungu, &c.road_address, &c.phone]
                    .iter()
                    .map(|s| s.as_ref().map_or(0, String::capacity))
                    .sum::<usize>()
        })
        .sum();
    cards.capacity() * slot + cards.len() * card + text
}

fn department_names(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .filter_map(|c| c.parse::<Department>().ok())
        .map(|d| d.ko().to_owned())
        .collect()
}

fn hospital_doc<'a>(
    h: &DirectoryHospital,
    doctors: impl IntoIterator<Item = &'a Doctor>,
) -> HospitalDoc {
    let mut weekly = [None; 7];
    let mut holiday = None;
    for hours in &h.hours {
        let d = DayHours {
            open: hours.open,
            close: hours.close,
            lunch: hours.lunch,
        };
        match hours.day {
            7 => holiday = Some(d),
            day => weekly[usize::from(day).min(6)] = Some(d),
        }
    }
    HospitalDoc {
        id: h.id,
        name: h.name.clone(),
        hospital_type: HospitalType::from_code(&h.hospital_type)
            .map(|t| t.ko())
            .unwrap_or("의원")
            .to_owned(),
        sido: h.sido.clone().unwrap_or_default(),
        sigungu: h.sigungu.clone().unwrap_or_default(),
        address: h.road_address.clone().unwrap_or_default(),
        departments: department_names(&h.departments),
        doctor_names: doctors.into_iter().map(|d| d.name.clone()).collect(),
        latin_name: h.latin_name.clone(),
        lat: h.lat.unwrap_or(f64::NAN),
        lon: h.lon.unwrap_or(f64::NAN),
        weekly,
        holiday,
    }
}

fn doctor_doc(d: &Doctor, h: &DirectoryHospital) -> DoctorDoc {
    DoctorDoc {
        id: d.id,
        hospital_id: h.id,
        name: d.name.clone(),
        departments: department_names(&d.departments),
        hospital_name: h.name.clone(),
        sido: h.sido.clone().unwrap_or_default(),
        sigungu: h.sigungu.clone().unwrap_or_default(),
        lat: h.lat.unwrap_or(f64::NAN),
        lon: h.lon.unwrap_or(f64::NAN),
    }
}

/// How long a search waits for the first build before answering 503.
pub const NOT_READY_RETRY: Duration = Duration::from_secs(5);
