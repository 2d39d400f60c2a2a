//! One tantivy index in RAM with its reader and writer: the part hospitals and doctors share.
//!
//! Reads take the current searcher from a reader with `ReloadPolicy::Manual`; every write
//! commits and reloads that reader before returning, so a write is visible to every search that
//! starts after the call returns — and never earlier than its commit. Writes are serialised by a
//! mutex around the single `IndexWriter` (tantivy allows one per index).

use std::sync::{Mutex, MutexGuard};

use tantivy::directory::RamDirectory;
use tantivy::indexer::IndexWriterOptions;
use tantivy::schema::Schema;
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::Result;
use crate::analysis;

/// Memory per indexing thread for a bulk build. Large enough that 1 M doctors become a handful of
/// segments (no merging needed afterwards); the arena is freed when the bulk writer is dropped.
const BULK_HEAP_PER_THREAD: usize = 256 << 20;
/// The writer kept for single-document updates: tantivy's minimum arena, one thread, one merge
/// thread (this runs next to a web server on two cores).
const UPDATE_HEAP: usize = 15_000_000;

pub(crate) struct Engine<F> {
    pub fields: F,
    dir: RamDirectory,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

impl<F> Engine<F> {
    /// Builds an index from `docs` with a large multi-threaded writer and a single commit.
    pub(crate) fn build(
        schema: Schema,
        fields: F,
        threads: usize,
        docs: impl FnOnce(&F, &IndexWriter) -> Result<()>,
    ) -> Result<Self> {
        let dir = RamDirectory::create();
        let index = Index::create(dir.clone(), schema, IndexSettings::default())?;
        analysis::register(&index);
        let mut bulk: IndexWriter = index.writer_with_options(
            IndexWriterOptions::builder()
                .num_worker_threads(threads)
                .memory_budget_per_thread(BULK_HEAP_PER_THREAD)
                .num_merge_threads(1)
                .build(),
        )?;
        docs(&fields, &bulk)?;
        bulk.commit()?;
        bulk.wait_merging_threads()?;
        let writer = index.writer_with_options(
            IndexWriterOptions::builder()
                .num_worker_threads(1)
                .memory_budget_per_thread(UPDATE_HEAP)
                .num_merge_threads(1)
                .build(),
        )?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Engine {
            fields,
            dir,
            reader,
            writer: Mutex::new(writer),
        })
    }

    /// The current point-in-time view (cheap: a pooled `Arc`).
    pub(crate) fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    fn lock(&self) -> MutexGuard<'_, IndexWriter> {
        // A panic while holding the lock leaves tantivy's writer usable (uncommitted operations
        // are simply rolled into the next commit), so a poisoned lock is not fatal.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deletes every document with `term`, adds `docs`, then commits once and reloads: the
    /// change becomes visible all at once.
    pub(crate) fn replace(
        &self,
        terms: &[Term],
        docs: impl IntoIterator<Item = TantivyDocument>,
    ) -> Result<()> {
        let mut writer = self.lock();
        for term in terms {
            writer.delete_term(term.clone());
        }
        for doc in docs {
            writer.add_document(doc)?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Live documents.
    pub(crate) fn len(&self) -> usize {
        self.searcher().num_docs() as usize
    }

    /// Bytes held by the index files in RAM (segments, doc store, fast fields).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.dir.total_mem_usage()
    }
}
