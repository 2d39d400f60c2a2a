//! The hospital index: schema, document mapping and search.
//!
//! Field tiers (score of a word matching there): name 10 (초성 10), Latin name 10/8/5/4
//! (exact/prefix/typo/typo-in-prefix), department 4, address 3 (Latin address words
//! 3/2.5/1.5/1.25), doctor name 3. Bonuses: whole query = name +100, name starts with the query
//! +20, multi-word query adjacent in the name +5.

use tantivy::query::Query;
use tantivy::schema::{FAST, Field, Schema};
use tantivy::{IndexWriter, Searcher, TantivyDocument, Term};
use uuid::Uuid;

use crate::cache::PageCache;
use crate::collect::{Fingerprint, Hit};
use crate::engine::Engine;
use crate::highlight::{Kinds, SUBSTRING, highlight};
use crate::model::{Highlight, HospitalDoc, HospitalHit, HospitalQuery};
use crate::query::{LatinTiers, Ngram, ParsedText, Scheme, keyword_filter};
use crate::schema::{self, Common, NameFields, add_keyword, add_ngram, stored_strings};
use crate::search::{Plan, Request, run};
use crate::{Page, Result, hours};

const NAME: f32 = 10.0;
const DEPARTMENT: f32 = 4.0;
const ADDRESS: f32 = 3.0;
const DOCTOR: f32 = 3.0;
const LATIN_NAME: LatinTiers = LatinTiers([10.0, 8.0, 5.0, 4.0]);
const LATIN_ADDRESS: LatinTiers = LatinTiers([3.0, 2.5, 1.5, 1.25]);

pub(crate) struct Fields {
    common: Common,
    name: NameFields,
    latin: Field,
    address: Ngram,
    address_words: Field,
    department: Ngram,
    department_kw: Field,
    doctor: Ngram,
    sido: Field,
    sigungu: Field,
    kind: Field,
    hours: [Field; 8],
    scheme: Scheme,
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let common = Common::add(&mut b);
    let name = NameFields::add(&mut b);
    let latin = schema::words(&mut b, "latin_name", true);
    let address = schema::ngram(&mut b, "address", true);
    let address_words = schema::words(&mut b, "address_words", false);
    let department = schema::ngram(&mut b, "department", true);
    let department_kw = schema::raw(&mut b, "department_kw");
    let doctor = schema::ngram(&mut b, "doctor", true);
    let sido = schema::raw(&mut b, "sido");
    let sigungu = schema::raw(&mut b, "sigungu");
    let kind = schema::raw(&mut b, "hospital_type");
    let hours = hours::COLUMNS.map(|c| b.add_u64_field(c, FAST));
    let scheme = Scheme {
        substring: vec![
            (name.ngram, NAME),
            (department, DEPARTMENT),
            (address, ADDRESS),
            (doctor, DOCTOR),
        ],
        chosung: vec![(name.chosung, NAME)],
        latin: vec![(latin, LATIN_NAME), (address_words, LATIN_ADDRESS)],
        name: name.ngram,
        name_exact: name.exact,
        name_prefix: name.prefix,
    };
    let fields = Fields {
        common,
        name,
        latin,
        address,
        address_words,
        department,
        department_kw,
        doctor,
        sido,
        sigungu,
        kind,
        hours,
        scheme,
    };
    (b.build(), fields)
}

impl Fields {
    pub(crate) fn document(&self, h: &HospitalDoc) -> TantivyDocument {
        self.ranked(h).1
    }

    /// The document and its rank.
    pub(crate) fn ranked(&self, h: &HospitalDoc) -> (u64, TantivyDocument) {
        let mut doc = TantivyDocument::new();
        let key = self.name.fill(&mut doc, &h.name);
        let rank = self.common.fill(&mut doc, h.id, &key, h.lat, h.lon);
        if let Some(latin) = &h.latin_name {
            doc.add_text(self.latin, latin);
        }
        add_ngram(&mut doc, self.address, &h.address);
        doc.add_text(self.address_words, &h.address);
        for d in &h.departments {
            add_ngram(&mut doc, self.department, d);
            add_keyword(&mut doc, self.department_kw, d);
        }
        for n in &h.doctor_names {
            add_ngram(&mut doc, self.doctor, n);
        }
        add_keyword(&mut doc, self.sido, &h.sido);
        add_keyword(&mut doc, self.sigungu, &h.sigungu);
        add_keyword(&mut doc, self.kind, &h.hospital_type);
        let days = h
            .weekly
            .iter()
            .map(Option::as_ref)
            .chain([h.holiday.as_ref()]);
        for (field, day) in self.hours.iter().zip(days) {
            doc.add_u64(*field, hours::pack(day));
        }
        (rank, doc)
    }

    pub(crate) fn id_term(&self, id: Uuid) -> Term {
        Term::from_field_bytes(self.common.id, id.as_bytes())
    }

    fn highlights(&self, parsed: &ParsedText, doc: &TantivyDocument) -> Vec<Highlight> {
        let name_kinds = Kinds {
            substring: true,
            chosung: true,
            latin: false,
        };
        let latin_kinds = Kinds {
            substring: false,
            chosung: false,
            latin: true,
        };
        let address_kinds = Kinds {
            substring: true,
            chosung: false,
            latin: true,
        };
        let fields: [(&'static str, Field, Kinds); 5] = [
            ("name", self.name.ngram.bi, name_kinds),
            ("latin_name", self.latin, latin_kinds),
            ("address", self.address.bi, address_kinds),
            ("department", self.department.bi, SUBSTRING),
            ("doctor", self.doctor.bi, SUBSTRING),
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
    docs: impl IntoIterator<Item = HospitalDoc>,
) -> Result<()> {
    schema::bulk_add_ranked(writer, docs.into_iter().collect(), |x| fields.ranked(x))
}

pub(crate) fn search(
    engine: &Engine<Fields>,
    cache: &PageCache<Page<HospitalHit>>,
    q: &HospitalQuery,
) -> Result<Page<HospitalHit>> {
    let f = &engine.fields;
    let parsed = ParsedText::parse(&q.text)?;
    let norm = |v: &Option<String>| v.as_deref().map(crate::query::keyword);
    let key = format!(
        "{:?}",
        (
            &parsed.words,
            [
                norm(&q.sido),
                norm(&q.sigungu),
                norm(&q.department),
                norm(&q.hospital_type)
            ],
            q.open_at,
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
    let mut fp = Fingerprint::new("hospital");
    fp.add(format!("{:?}", parsed.words).as_bytes());
    for (field, value) in [
        (f.sido, &q.sido),
        (f.sigungu, &q.sigungu),
        (f.department_kw, &q.department),
        (f.kind, &q.hospital_type),
    ] {
        fp.add_opt(value.as_deref().map(crate::query::keyword).as_deref());
        if let Some(v) = value {
            filters.push(keyword_filter(field, v));
        }
    }
    let open_at = match &q.open_at {
        Some(at) => {
            fp.add(format!("{at:?}").as_bytes());
            Some((hours::column_for(at)?, at.minute))
        }
        None => None,
    };
    let request = Request {
        text: f.scheme.text_plan(&parsed),
        filters,
    };
    let plan = Plan::new(&mut fp, q.sort, open_at, q.limit, q.cursor.as_deref())?;
    let page = run(
        engine,
        request,
        plan,
        |searcher: &Searcher, hit: &Hit, distance_m| {
            let doc: TantivyDocument = searcher.doc(hit.address)?;
            Ok(HospitalHit {
                id: Uuid::from_u128(hit.key.id),
                score: hit.score,
                distance_m,
                highlights: f.highlights(&parsed, &doc),
            })
        },
    )?;
    cache.put(key, generation, &page);
    Ok(page)
}
