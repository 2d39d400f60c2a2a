//! One tantivy index in RAM with its reader and writer: the part hospitals and doctors share.
//!
//! Reads take the current searcher from a reader with `ReloadPolicy::Manual`; every write
//! commits and reloads that reader before returning, so a write is visible to every search that
//! starts after the call returns — and never earlier than its commit. Writes are serialised by a
//! mutex around the single `IndexWriter` (tantivy allows one per index).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tantivy::directory::RamDirectory;
use tantivy::index::SegmentId;
use tantivy::indexer::IndexWriterOptions;
use tantivy::schema::Schema;
use tantivy::{
    DocId, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, SegmentReader,
    TantivyDocument, Term,
};

use crate::Result;
use crate::analysis;

/// Memory per indexing thread for a bulk build. Large enough that 1 M doctors become a handful of
/// segments (no merging needed afterwards); the arena is freed when the bulk writer is dropped.
const BULK_HEAP_PER_THREAD: usize = 256 << 20;
/// Doc store block size. Highlights read the stored text of every hit on a page, each hit in its
/// own block: tantivy's 16 KiB default meant decompressing ~16 KiB per hit (most of a short
/// query's time); 2 KiB blocks cost a little compression.
const DOCSTORE_BLOCK: usize = 2048;
/// The writer kept for single-document updates: tantivy's minimum arena, one thread, one merge
/// thread (this runs next to a web server on two cores).
const UPDATE_HEAP: usize = 15_000_000;

pub(crate) struct Engine<F> {
    pub fields: F,
    dir: RamDirectory,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// Per segment: how many of its first documents are in rank order (see `sorted_prefix`).
    sorted: Mutex<HashMap<SegmentId, DocId>>,
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
        let settings = IndexSettings {
            docstore_blocksize: DOCSTORE_BLOCK,
            ..IndexSettings::default()
        };
        let index = Index::create(dir.clone(), schema, settings)?;
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
            sorted: Mutex::new(HashMap::new()),
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
        drop(writer);
        // forget segments merged away
        let live: Vec<SegmentId> = self
            .searcher()
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        self.sorted_lock().retain(|id, _| live.contains(id));
        Ok(())
    }

    fn sorted_lock(&self) -> MutexGuard<'_, HashMap<SegmentId, DocId>> {
        self.sorted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The length of the segment's longest prefix whose documents are in non-decreasing `rank`
    /// order (the tie-breaker after the score). Bulk builds add documents in rank order, so a
    /// built segment is sorted throughout; segments from updates and merges may be sorted only
    /// in part. Computed once per segment.
    pub(crate) fn sorted_prefix(&self, reader: &SegmentReader) -> DocId {
        let id = reader.segment_id();
        if let Some(&n) = self.sorted_lock().get(&id) {
            return n;
        }
        let n = crate::collect::sorted_prefix(reader);
        self.sorted_lock().insert(id, n);
        n
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
