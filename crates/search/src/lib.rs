//! DocDe's directory search: an embedded, in-memory tantivy index of hospitals and doctors that
//! finds what a Korean patient types. A plain library — no HTTP, no database, no async. The
//! server owns one [`SearchIndex`] per instance, [`SearchIndex::build`]s it from the database at
//! start and applies every directory write with the `upsert_*` / `delete_*` calls.
//!
//! # Why this design
//!
//! tantivy's default tokenizer splits on whitespace, so it finds no Korean substrings
//! (`서울대` inside `분당서울대학교병원`); a morphological analyser (lindera's Korean dictionary)
//! downloads at build time, which fails here, and would still miss arbitrary substrings. So
//! Korean matching is done with **n-grams with positions**:
//!
//! * every searchable value is folded into a *key* (`text` module: NFC, full-width → ASCII,
//!   lower case, accents and all spaces/punctuation removed — hence `서울 대학교` ≡ `서울대학교`);
//! * each key is indexed twice: as **unigrams** (doc ids only) and as **bigrams with positions**
//!   (position = offset of the first character), by our own tokenizers (`analysis`) — tantivy's
//!   `NgramTokenizer` puts every gram at position 0, and `QueryParser` rejects such fields;
//! * a query word of 1 character is one unigram term, of 2 characters one bigram term, longer
//!   words a `PhraseQuery` of their bigrams at their offsets. A phrase match means the word is a
//!   substring of one value's key — exactly, so `서대` does not match `서울대` (no false positives
//!   from n-grams that are not adjacent), and 1- and 2-syllable queries have full recall without
//!   touching stored text. Values of a multi-valued field are separated by a position gap, so a
//!   phrase never spans two doctors or two departments;
//! * names are also indexed as their **초성** string (`서울대학교병원` → `ㅅㅇㄷㅎㄱㅂㅇ`) with the
//!   same uni/bigram scheme; a query word made only of initial consonants (쌍자음 included)
//!   searches it;
//! * Latin names and addresses get a **word** field (folded words) for exact, prefix
//!   (`sams`) and one-typo (`samsnug`, transposition = 1 edit) matching with `FuzzyTermQuery`;
//! * every query word must match (AND) in at least one field; a word's field clauses are
//!   `ConstScoreQuery`s combined with `DisjunctionMaxQuery`, so ranking is by field tier — name >
//!   department > address = doctor — plus bonuses for "query equals the name" (+100) and "name
//!   starts with the query" (+20, from an edge-n-gram field), then shorter names, then id.
//!   Constant scores also skip BM25 work (no field norms are stored) and keep a document's score
//!   identical across pages, which the cursors need.
//!
//! Filters (시도, 시군구, department, hospital type) are exact terms on untokenized keyword
//! fields. "Open at" and distance sorting read fast fields inside one custom collector
//! (`collect`): hours are packed into one u64 per weekday plus one for public holidays, positions
//! are unit vectors so haversine order costs no trigonometry. The collector keeps the `limit + 1`
//! smallest sort keys after the cursor in a heap, and the cursor is that last key: keyset
//! pagination, stable and gap-free.
//!
//! Relevance-ordered text searches do not score every match: `topk` reads the clauses' posting
//! lists itself (MaxScore). It counts matches exactly up to [`TOTAL_CAP`] (beyond that `total` is
//! the cap and `total_is_lower_bound` is set), then stops taking candidates from clauses whose
//! best possible contribution cannot lift a document above the page's worst score. Pages and
//! cursors are exactly those of full collection (a unit test compares the two).
//!
//! Searches use one `IndexReader` with `ReloadPolicy::Manual`; every write commits and reloads it
//! before returning, so a deleted hospital is unfindable once [`SearchIndex::delete_hospital`]
//! returns. The bulk [`SearchIndex::build`] uses large multi-threaded writers and one commit; the
//! writer kept for updates is small and single-threaded.
//!
//! Stored text is read only to compute [`Highlight`]s of the returned page.
//!
//! The last pages served (256 per kind, LRU, keyed by the normalised query) are kept in a cache
//! that every write empties before it returns (`cache`): a repeated search costs a hash lookup
//! and a copy of the page, and never shows anything a write has changed.
//!
//! # Example
//!
//! ```
//! use docde_search::{DayHours, HospitalDoc, HospitalQuery, SearchIndex};
//! use uuid::Uuid;
//!
//! let hours = Some(DayHours { open: 540, close: 1080, lunch: Some((780, 840)) });
//! let snuh = HospitalDoc {
//!     id: Uuid::now_v7(),
//!     name: "서울대학교병원".into(),
//!     hospital_type: "상급종합병원".into(),
//!     sido: "서울특별시".into(),
//!     sigungu: "종로구".into(),
//!     address: "서울특별시 종로구 대학로 101".into(),
//!     departments: vec!["내과".into(), "소아청소년과".into()],
//!     doctor_names: vec!["김민준".into()],
//!     latin_name: Some("Seoul National University Hospital".into()),
//!     lat: 37.5796,
//!     lon: 126.9990,
//!     weekly: [hours, hours, hours, hours, hours, None, None],
//!     holiday: None,
//! };
//! let index = SearchIndex::build([snuh.clone()], [])?;
//! for text in ["서울대", "ㅅㅇㄷ", "서울 대학교", "seoul nat", "김민준"] {
//!     let page = index.search_hospitals(&HospitalQuery { text: text.into(), ..Default::default() })?;
//!     assert_eq!(page.items[0].id, snuh.id, "{text}");
//! }
//! index.delete_hospital(snuh.id)?;
//! assert_eq!(index.search_hospitals(&HospitalQuery::default())?.total, 0);
//! # Ok::<(), docde_search::Error>(())
//! ```

mod analysis;
mod cache;
mod collect;
mod doctor;
mod engine;
mod error;
mod geo;
mod highlight;
mod hospital;
mod hours;
mod model;
mod query;
mod schema;
mod search;
mod text;
mod topk;

use std::sync::Arc;

use uuid::Uuid;

pub use error::{Error, Result};
pub use model::{
    DayHours, DoctorDoc, DoctorHit, DoctorQuery, Highlight, HospitalDoc, HospitalHit,
    HospitalQuery, OpenAt, Page, Sort,
};
pub use query::{MAX_QUERY_CHARS, MAX_QUERY_WORDS};
pub use topk::TOTAL_CAP;

/// Page size when a query does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size; larger limits are clamped.
pub const MAX_LIMIT: usize = 100;

/// Indexing threads per writer during a bulk build (the target machine has two cores).
const BULK_THREADS: usize = 2;

/// The directory index: hospitals and doctors, each its own tantivy index in RAM. Cheap to
/// clone; clones share the index. `Send + Sync`: search from any thread while another writes.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    hospitals: engine::Engine<hospital::Fields>,
    doctors: engine::Engine<doctor::Fields>,
    hospital_pages: cache::PageCache<Page<HospitalHit>>,
    doctor_pages: cache::PageCache<Page<DoctorHit>>,
}

/// Empties the page caches when a write is done (also when it failed half-way: part of it may
/// be committed).
struct Invalidate<'a>(&'a Inner);

impl Drop for Invalidate<'_> {
    fn drop(&mut self) {
        self.0.hospital_pages.invalidate();
        self.0.doctor_pages.invalidate();
    }
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Result<Self> {
        Self::build(Vec::new(), Vec::new())
    }

    /// Builds the index from the whole directory at once (large writers, one commit each). The
    /// hospital and doctor indexes are built at the same time, each from documents made on
    /// every core and added in rank order (see `topk`).
    pub fn build(
        hospitals: impl IntoIterator<Item = HospitalDoc>,
        doctors: impl IntoIterator<Item = DoctorDoc>,
    ) -> Result<Self> {
        let hospitals: Vec<HospitalDoc> = hospitals.into_iter().collect();
        let doctors: Vec<DoctorDoc> = doctors.into_iter().collect();
        let (hospitals, doctors) = std::thread::scope(|scope| {
            let doctors = scope.spawn(|| {
                let (schema, fields) = doctor::schema();
                engine::Engine::build(schema, fields, BULK_THREADS, |f, w| {
                    doctor::bulk_add(f, w, doctors)
                })
            });
            let (schema, fields) = hospital::schema();
            let hospitals = engine::Engine::build(schema, fields, BULK_THREADS, |f, w| {
                hospital::bulk_add(f, w, hospitals)
            });
            let doctors = doctors
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (hospitals, doctors)
        });
        Ok(SearchIndex {
            inner: Arc::new(Inner {
                hospitals: hospitals?,
                doctors: doctors?,
                hospital_pages: cache::PageCache::new(cache::CAPACITY),
                doctor_pages: cache::PageCache::new(cache::CAPACITY),
            }),
        })
    }

    /// Sets how many result pages per kind are kept in the cache of recent searches (default
    /// 256; 0 turns it off). Cached pages are dropped on every write, before the write returns.
    pub fn set_page_cache(&self, pages: usize) {
        self.inner.hospital_pages.set_capacity(pages);
        self.inner.doctor_pages.set_capacity(pages);
    }

    /// Adds or replaces a hospital; searchable when this returns. The hospital's doctors are
    /// separate documents (their copies of the hospital's name and region are updated with
    /// [`SearchIndex::upsert_doctor`]).
    pub fn upsert_hospital(&self, doc: &HospitalDoc) -> Result<()> {
        let _invalidate = Invalidate(&self.inner);
        let h = &self.inner.hospitals;
        h.replace(&[h.fields.id_term(doc.id)], [h.fields.document(doc)])
    }

    /// Removes a hospital **and its doctors**; neither is findable once this returns. Deleting
    /// an unknown id is not an error.
    pub fn delete_hospital(&self, id: Uuid) -> Result<()> {
        let _invalidate = Invalidate(&self.inner);
        let h = &self.inner.hospitals;
        h.replace(&[h.fields.id_term(id)], [])?;
        let d = &self.inner.doctors;
        d.replace(&[d.fields.hospital_term(id)], [])
    }

    /// Adds or replaces a hospital together with **all** its doctors: doctors of the hospital
    /// not in `doctors` are removed. One commit per index (rather than one per doctor), so
    /// editing a hospital with many doctors costs two commits.
    pub fn replace_hospital(&self, hospital: &HospitalDoc, doctors: &[DoctorDoc]) -> Result<()> {
        let _invalidate = Invalidate(&self.inner);
        let h = &self.inner.hospitals;
        h.replace(
            &[h.fields.id_term(hospital.id)],
            [h.fields.document(hospital)],
        )?;
        let d = &self.inner.doctors;
        let mut terms = vec![d.fields.hospital_term(hospital.id)];
        // a doctor moving here from another hospital leaves that one's entry behind otherwise
        terms.extend(doctors.iter().map(|doc| d.fields.id_term(doc.id)));
        d.replace(&terms, doctors.iter().map(|doc| d.fields.document(doc)))
    }

    /// Adds or replaces a doctor; searchable when this returns.
    pub fn upsert_doctor(&self, doc: &DoctorDoc) -> Result<()> {
        let _invalidate = Invalidate(&self.inner);
        let d = &self.inner.doctors;
        d.replace(&[d.fields.id_term(doc.id)], [d.fields.document(doc)])
    }

    /// Removes a doctor; unfindable once this returns. Unknown ids are not an error.
    pub fn delete_doctor(&self, id: Uuid) -> Result<()> {
        let _invalidate = Invalidate(&self.inner);
        let d = &self.inner.doctors;
        d.replace(&[d.fields.id_term(id)], [])
    }

    /// Hospitals matching `q`: text on name, Latin name, address, departments and doctor names.
    pub fn search_hospitals(&self, q: &HospitalQuery) -> Result<Page<HospitalHit>> {
        hospital::search(&self.inner.hospitals, &self.inner.hospital_pages, q)
    }

    /// Doctors matching `q`: text on the doctor's name, departments and hospital name.
    pub fn search_doctors(&self, q: &DoctorQuery) -> Result<Page<DoctorHit>> {
        doctor::search(&self.inner.doctors, &self.inner.doctor_pages, q)
    }

    /// Number of hospitals.
    pub fn len(&self) -> usize {
        self.inner.hospitals.len()
    }

    /// True when there are no hospitals.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of doctors.
    pub fn doctor_count(&self) -> usize {
        self.inner.doctors.len()
    }

    /// Best estimate of the RAM the index holds: the bytes of every index file (postings,
    /// positions, term dictionaries, fast fields, compressed doc store) in both RAM directories.
    /// Excludes reader caches and the update writers' arenas (~a few MB).
    pub fn memory_bytes(&self) -> usize {
        self.inner.hospitals.memory_bytes() + self.inner.doctors.memory_bytes()
    }
}
