//! Field-building helpers shared by the hospital and doctor schemas.

use tantivy::TantivyDocument;
use tantivy::schema::{
    BytesOptions, FAST, Field, IndexRecordOption, SchemaBuilder, TextFieldIndexing, TextOptions,
};
use uuid::Uuid;

use crate::analysis::{BIGRAM, PREFIX, UNIGRAM, WORDS};
use crate::collect::{GEO, ID_HI, ID_LO, RANK, rank};
use crate::query::{Ngram, keyword};
use crate::{geo, text};

/// Text indexed with `tokenizer`, without field norms (scores are constant, see `query`).
fn text_field(tokenizer: &str, record: IndexRecordOption, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record)
            .set_fieldnorms(false),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

/// `{base}_uni` (doc ids only) and `{base}_bi` (with positions, for phrases). The bigram field
/// stores the original value when `stored`.
pub(crate) fn ngram(b: &mut SchemaBuilder, base: &str, stored: bool) -> Ngram {
    Ngram {
        uni: b.add_text_field(
            &format!("{base}_uni"),
            text_field(UNIGRAM, IndexRecordOption::Basic, false),
        ),
        bi: b.add_text_field(
            &format!("{base}_bi"),
            text_field(BIGRAM, IndexRecordOption::WithFreqsAndPositions, stored),
        ),
    }
}

pub(crate) fn prefix(b: &mut SchemaBuilder, name: &str) -> Field {
    b.add_text_field(name, text_field(PREFIX, IndexRecordOption::Basic, false))
}

pub(crate) fn words(b: &mut SchemaBuilder, name: &str, stored: bool) -> Field {
    b.add_text_field(name, text_field(WORDS, IndexRecordOption::Basic, stored))
}

/// An untokenized keyword (exact match; values go through `query::keyword`).
pub(crate) fn raw(b: &mut SchemaBuilder, name: &str) -> Field {
    b.add_text_field(name, text_field("raw", IndexRecordOption::Basic, false))
}

/// A 16-byte UUID, indexed (to delete by it), optionally stored.
pub(crate) fn uuid(b: &mut SchemaBuilder, name: &str, stored: bool) -> Field {
    let options = BytesOptions::default().set_indexed();
    b.add_bytes_field(
        name,
        if stored {
            options.set_stored()
        } else {
            options
        },
    )
}

/// The fields every index has: the id (indexed + as two u64 fast fields for the collector),
/// the rank (name length and id prefix, see `collect::RANK`) and the position as a unit vector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Common {
    pub id: Field,
    id_hi: Field,
    id_lo: Field,
    rank: Field,
    geo: [Field; 3],
}

impl Common {
    pub(crate) fn add(b: &mut SchemaBuilder) -> Common {
        Common {
            id: uuid(b, "id", false),
            id_hi: b.add_u64_field(ID_HI, FAST),
            id_lo: b.add_u64_field(ID_LO, FAST),
            rank: b.add_u64_field(RANK, FAST),
            geo: GEO.map(|g| b.add_f64_field(g, FAST)),
        }
    }

    pub(crate) fn fill(
        &self,
        doc: &mut TantivyDocument,
        id: Uuid,
        name_key: &str,
        lat: f64,
        lon: f64,
    ) -> u64 {
        doc.add_bytes(self.id, id.as_bytes());
        let (hi, lo) = id.as_u64_pair();
        doc.add_u64(self.id_hi, hi);
        doc.add_u64(self.id_lo, lo);
        let rank = rank(name_key.chars().count(), hi);
        doc.add_u64(self.rank, rank);
        // No position is stored as the zero vector, which no unit vector equals.
        let v = geo::unit_vector(lat, lon).unwrap_or([0.0; 3]);
        for (field, value) in self.geo.iter().zip(v) {
            doc.add_f64(*field, value);
        }
        rank
    }
}

/// The name fields: n-grams of the key, n-grams of its 초성, prefixes and the whole key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameFields {
    pub ngram: Ngram,
    pub chosung: Ngram,
    pub prefix: Field,
    pub exact: Field,
}

impl NameFields {
    pub(crate) fn add(b: &mut SchemaBuilder) -> NameFields {
        NameFields {
            ngram: ngram(b, "name", true),
            chosung: ngram(b, "name_chosung", false),
            prefix: prefix(b, "name_prefix"),
            exact: raw(b, "name_exact"),
        }
    }

    /// Adds `name`; returns its key.
    pub(crate) fn fill(&self, doc: &mut TantivyDocument, name: &str) -> String {
        let key = text::key(name);
        add_ngram(doc, self.ngram, name);
        add_ngram(doc, self.chosung, &text::chosung_key(&key));
        doc.add_text(self.prefix, &key);
        doc.add_text(self.exact, &key);
        key
    }
}

/// Adds documents in rank order (the tie-breaker after the score), so that each segment of a
/// bulk build is sorted by rank and the top-k executor can stop early on ties (see `topk`).
/// Documents are made on every core; the indexing threads pick them up in order.
pub(crate) fn bulk_add_ranked<T: Sync>(
    writer: &tantivy::IndexWriter,
    docs: Vec<T>,
    make: impl Fn(&T) -> (u64, TantivyDocument) + Sync,
) -> crate::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = docs.len().div_ceil(threads).max(1);
    let mut ranked: Vec<(u64, TantivyDocument)> = std::thread::scope(|scope| {
        let parts: Vec<_> = docs
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&make).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().unwrap_or_default())
            .collect()
    });
    drop(docs);
    ranked.sort_unstable_by_key(|(rank, _)| *rank);
    for (_, doc) in ranked {
        writer.add_document(doc)?;
    }
    Ok(())
}

pub(crate) fn add_ngram(doc: &mut TantivyDocument, fields: Ngram, value: &str) {
    doc.add_text(fields.uni, value);
    doc.add_text(fields.bi, value);
}

pub(crate) fn add_keyword(doc: &mut TantivyDocument, field: Field, value: &str) {
    doc.add_text(field, keyword(value));
}

/// The stored string values of `field` in a retrieved document.
pub(crate) fn stored_strings(doc: &TantivyDocument, field: Field) -> Vec<String> {
    use tantivy::schema::Value;
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}
