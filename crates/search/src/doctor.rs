//! The doctor index: schema, document mapping and search.
//!
//! Field tiers: doctor name 10 (초성 10), department 4, hospital name 3; the same exact/prefix/
//! adjacency bonuses as hospitals, on the doctor's name.

use tantivy::query::Query;
use tantivy::schema::{Field, Schema, Value};
use tantivy::{IndexWriter, Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::cache::PageCache;
use crate::collect::{Fingerprint, Hit};
use crate::engine::Engine;
use crate::highlight::{Kinds, SUBSTRING, highlight};
use crate::model::{DoctorDoc, DoctorHit, DoctorQuery, Highlight};
use crate::query::{Ngram, ParsedText, Scheme, keyword_filter};
use crate::schema::{self, Common, NameFields, add_keyword, add_ngram, stored_strings};
use crate::search::{Plan, Request, run};
use crate::{Error, Page, Result};

const NAME: f32 = 10.0;
const DEPARTMENT: f32 = 4.0;
const HOSPITAL: f32 = 3.0;

pub(crate) struct Fields {
    common: Common,
    hospital_id: Field,
    name: NameFields,
    department: Ngram,
    department_kw: Field,
    hospital: Ngram,
    sido: Field,
    sigungu: Field,
    scheme: Scheme,
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let common = Common::add(&mut b);
    let hospital_id = schema::uuid(&mut b, "hospital_id", true);
    let name = NameFields::add(&mut b);
    let department = schema::ngram(&mut b, "department", true);
    let department_kw = schema::raw(&mut b, "department_kw");
    let hospital = schema::ngram(&mut b, "hospital", true);
    let sido = schema::raw(&mut b, "sido");
    let sigungu = schema::raw(&mut b, "sigungu");
    let scheme = Scheme {
        substring: vec![
            (name.ngram, NAME),
            (department, DEPARTMENT),
            (hospital, HOSPITAL),
        ],
        chosung: vec![(name.chosung, NAME)],
        latin: Vec::new(),
        name: name.ngram,
        name_exact: name.exact,
        name_prefix: name.prefix,
    };
    let fields = Fields {
        common,
        hospital_id,
        name,
        department,
        department_kw,
        hospital,
        sido,
        sigungu,
        scheme,
    };
    (b.build(), fields)
}

impl Fields {
    pub(crate) fn document(&self, d: &DoctorDoc) -> TantivyDocument {
        self.ranked(d).1
    }

    /// The document and its rank.
    pub(crate) fn ranked(&self, d: &DoctorDoc) -> (u64, TantivyDocument) {
        let mut doc = TantivyDocument::new();
        let key = self.name.fill(&mut doc, &d.name);
        let rank = self.common.fill(&mut doc, d.id, &key, d.lat, d.lon);
        doc.add_bytes(self.hospital_id, d.hospital_id.as_bytes());
        for dep in &d.departments {
            add_ngram(&mut doc, self.department, dep);
            add_keyword(&mut doc, self.department_kw, dep);
        }
        add_ngram(&mut doc, self.hospital, &d.hospital_name);
        add_keyword(&mut doc, self.sido, &d.sido);
        add_keyword(&mut doc, self.sigungu, &d.sigungu);
        (rank, doc)
    }

    pub(crate) fn id_term(&self, id: Uuid) -> Term {
        Term::from_field_bytes(self.common.id, id.as_bytes())
    }

    pub(crate) fn hospital_term(&self, hospital_id: Uuid) -> Term {
        Term::from_field_bytes(self.hospital_id, hospital_id.as_bytes())
    }

    fn highlights(&self, parsed: &ParsedText, doc: &TantivyDocument) -> Vec<Highlight> {
        let name_kinds = Kinds {
            substring: true,
            chosung: true,
            latin: false,
        };
        let fields: [(&'static str, Field, Kinds); 3] = [
            ("name", self.name.ngram.bi, name_kinds),
            ("department", self.department.bi, SUBSTRING),
            ("hospital", self.hospital.bi, SUBSTRING),
        ];
        fields
            .into_iter()
            .flat_map(|(label, field, kinds)| {
                stored_strings(doc, field)
                    .into_iter()
                    .filter_map(move |v| highlight(parsed, label, &v, kinds))
            })
            .collect()
    }
}

pub(crate) fn bulk_add(
    fields: &Fields,
    writer: &IndexWriter,
    docs: impl IntoIterator<Item = DoctorDoc>,
) -> Result<()> {
    schema::bulk_add_ranked(writer, docs.into_iter().collect(), |x| fields.ranked(x))
}

pub(crate) fn search(
    engine: &Engine<Fields>,
    cache: &PageCache<Page<DoctorHit>>,
    q: &DoctorQuery,
) -> Result<Page<DoctorHit>> {
    let f = &engine.fields;
    let parsed = ParsedText::parse(&q.text)?;
    let norm = |v: &Option<String>| v.as_deref().map(crate::query::keyword);
    let key = format!(
        "{:?}",
        (
            &parsed.words,
            [norm(&q.sido), norm(&q.sigungu), norm(&q.department)],
            q.hospital_id,
            q.sort,
            q.limit.min(crate::MAX_LIMIT),
            &q.cursor,
        )
    );
    // read before the searcher is taken (in `run`): see `cache`
    let generation = match cache.get(&key) {
        Ok(page) => return Ok(page),
        Err(generation) => generation,
    };
    let mut filters: Vec<Box<dyn Query>> = Vec::new();
    let mut fp = Fingerprint::new("doctor");
    fp.add(format!("{:?}", parsed.words).as_bytes());
    for (field, value) in [
        (f.sido, &q.sido),
        (f.sigungu, &q.sigungu),
        (f.department_kw, &q.department),
    ] {
        fp.add_opt(value.as_deref().map(crate::query::keyword).as_deref());
        if let Some(v) = value {
            filters.push(keyword_filter(field, v));
        }
    }
    if let Some(h) = q.hospital_id {
        fp.add(h.as_bytes());
        filters.push(crate::query::constant(
            Box::new(tantivy::query::TermQuery::new(
                f.hospital_term(h),
                tantivy::schema::IndexRecordOption::Basic,
            )),
            0.0,
        ));
    }
    let request = Request {
        text: f.scheme.text_plan(&parsed),
        filters,
    };
    let plan = Plan::new(&mut fp, q.sort, None, q.limit, q.cursor.as_deref())?;
    let page = run(
        engine,
        request,
        plan,
        |searcher: &Searcher, hit: &Hit, distance_m| {
            let doc: TantivyDocument = searcher.doc(hit.address)?;
            let hospital_id = doc
                .get_first(f.hospital_id)
                .and_then(|v| v.as_bytes())
                .and_then(|b| Uuid::from_slice(b).ok())
                .ok_or_else(|| {
                    Error::Index(tantivy::TantivyError::InternalError(
                        "doctor document without hospital_id".into(),
                    ))
                })?;
            Ok(DoctorHit {
                id: Uuid::from_u128(hit.key.id),
                hospital_id,
                score: hit.score,
                distance_m,
                highlights: f.highlights(&parsed, &doc),
            })
        },
    )?;
    cache.put(key, generation, &page);
    Ok(page)
}
