//! What a check-in needs to know about its hospital — time zone, timetable, departments — read
//! from the directory and kept for a few seconds, so a spike of check-ins does not read the
//! same hospital thousands of times. An edit shows within [`FRESH_FOR`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docde_domain::directory::{DayHours, Timetable};
use docde_store::Store;
use docde_store::directory;
use uuid::Uuid;

use crate::problem::ApiError;

const FRESH_FOR: Duration = Duration::from_secs(5);

/// A hospital as reception sees it.
#[derive(Debug, Clone)]
pub struct HospitalFacts {
    pub id: Uuid,
    pub tz: chrono_tz::Tz,
    /// `None` when the directory lists no hours at all: reception cannot enforce hours it
    /// does not know, so such a hospital takes walk-ins at any time.
    pub timetable: Option<Timetable>,
    pub departments: Vec<String>,
}

#[derive(Default)]
pub struct HospitalCache {
    map: Mutex<HashMap<Uuid, (Instant, Arc<HospitalFacts>)>>,
}

impl HospitalCache {
    /// The hospital's facts, or 404 if there is no such (live) hospital.
    pub async fn get(&self, store: &Store, id: Uuid) -> Result<Arc<HospitalFacts>, ApiError> {
        {
            let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, facts)) = map.get(&id)
                && at.elapsed() < FRESH_FOR
            {
                return Ok(facts.clone());
            }
        }
        let h = directory::get_hospital(store, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let timetable = (!h.hours.is_empty()).then(|| {
            let mut t = Timetable::default();
            for hours in &h.hours {
                let Ok(day) = DayHours::new(hours.open, hours.close, hours.lunch) else {
                    continue;
                };
                match hours.day {
                    0..=6 => t.weekly[usize::from(hours.day)] = Some(day),
                    _ => t.holiday = Some(day),
                }
            }
            t
        });
        let facts = Arc::new(HospitalFacts {
            id,
            tz: crate::booking::document::zone(&h.time_zone),
            timetable,
            departments: h.departments,
        });
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(id, (Instant::now(), facts.clone()));
        Ok(facts)
    }
}
