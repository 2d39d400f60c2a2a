//! Opening the database, applying migrations and reporting health.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Where the data lives and how many connections to hold.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: String,
    /// PostgreSQL schema to use (created if missing); `None` means the server's default.
    /// Lets several installations, or test runs, share one database.
    pub schema: Option<String>,
    pub max_connections: u32,
    /// How long a request waits for a free connection before the store reports unavailable.
    pub acquire_timeout: Duration,
}

/// The two pools behind a [`Store`].
#[derive(Clone, Debug)]
pub enum Backend {
    /// SQLite allows one writer at a time; a single writer connection makes that explicit
    /// (writes queue in the pool instead of failing with SQLITE_BUSY), while readers run in
    /// parallel against the WAL.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        /// One connection that only moves the write-ahead log into the database file
        /// ([`Store::checkpoint`]), so the writer's commits no longer do it themselves.
        checkpointer: SqlitePool,
    },
    Postgres(PgPool),
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

impl Store {
    /// Connects (creating the SQLite file or the PostgreSQL schema if needed). Does not migrate.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        let backend =
            if config.url.starts_with("postgres://") || config.url.starts_with("postgresql://") {
                Backend::Postgres(connect_postgres(config).await?)
            } else if let Some(path) = config.url.strip_prefix("sqlite://") {
                connect_sqlite(PathBuf::from(path), config).await?
            } else {
                return Err(StoreError::Other(sqlx::Error::Configuration(
                    "database url must start with sqlite:// or postgres://".into(),
                )));
            };
        Ok(Self { backend })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// On PostgreSQL, a store on the same database with `connections` connections of its own,
    /// opened on the calling task's runtime (whose I/O driver then serves them); `None` on
    /// SQLite, whose connections each have a thread of their own anyway.
    pub async fn own_pool(&self, connections: u32) -> Option<Result<Store, StoreError>> {
        let Backend::Postgres(pool) = &self.backend else {
            return None;
        };
        let options = (*pool.connect_options()).clone();
        let opened = PgPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(pool.options().get_acquire_timeout())
            .connect_with(options)
            .await;
        Some(
            opened
                .map(|pool| Store {
                    backend: Backend::Postgres(pool),
                })
                .map_err(StoreError::from),
        )
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn dialect(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Applies every pending migration. Safe to run from several instances at once:
    /// sqlx takes an advisory lock on PostgreSQL, and SQLite has one writer.
    ///
    /// On SQLite every reader then reads the schema as it now stands: readers are opened
    /// before the migrations, and each would otherwise find its schema stale on its first
    /// query and read it again there, under load (see `connect_sqlite`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { writer, reader, .. } => {
                SQLITE_MIGRATIONS.run(writer).await?;
                read_schema_on_every_connection(reader).await?;
            }
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers and that every migration this binary knows is applied.
    pub async fn check(&self) -> Result<(), HealthProblem> {
        let expected = match &self.backend {
            Backend::Sqlite { .. } => latest(&SQLITE_MIGRATIONS),
            Backend::Postgres(_) => latest(&POSTGRES_MIGRATIONS),
        };
        let query = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        let applied: Result<Option<i64>, sqlx::Error> =
            crate::with_reader!(self, pool => sqlx::query_scalar(query).fetch_one(pool).await);
        let applied = match applied {
            Ok(v) => v,
            // The table is missing before the first migration: that is "pending", not "down".
            Err(sqlx::Error::Database(e)) if e.message().contains("_sqlx_migrations") => None,
            Err(e) => return Err(HealthProblem::Unreachable(e)),
        };
        match applied {
            Some(v) if v >= expected => Ok(()),
            _ => Err(HealthProblem::MigrationsPending { expected, applied }),
        }
    }

    /// (connections open, connections idle) summed over the pools, for metrics.
    pub fn pool_usage(&self) -> (u32, u32) {
        match &self.backend {
            Backend::Sqlite { writer, reader, .. } => (
                writer.size() + reader.size(),
                (writer.num_idle() + reader.num_idle()) as u32,
            ),
            Backend::Postgres(pool) => (pool.size(), pool.num_idle() as u32),
        }
    }

    /// SQLite: copies the write-ahead log's committed pages into the database file without
    /// waiting for anyone (a passive checkpoint), on a connection of its own. Returns the log's
    /// frames and those now in the database file; `None` on PostgreSQL, which needs none of it.
    ///
    /// Why: left to itself, SQLite checkpoints inside the commit that crosses the log's size
    /// limit, on the writer, and every commit queued behind it (every bedside sample, every
    /// booking) waits for that copy and its fsync. Run often enough, this keeps the log below
    /// the writer's limit, so the writer only appends.
    pub async fn checkpoint(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let Backend::Sqlite { checkpointer, .. } = &self.backend else {
            return Ok(None);
        };
        let (_busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(checkpointer)
            .await?;
        Ok(Some((log, done)))
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite {
                writer,
                reader,
                checkpointer,
            } => {
                checkpointer.close().await;
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// Why the database is not ready.
#[derive(Debug, thiserror::Error)]
pub enum HealthProblem {
    #[error("database unreachable")]
    Unreachable(#[from] sqlx::Error),
    #[error("migrations pending (applied {applied:?}, expected {expected})")]
    MigrationsPending { expected: i64, applied: Option<i64> },
}

fn latest(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn connect_postgres(config: &DatabaseConfig) -> Result<PgPool, StoreError> {
    let mut options = PgConnectOptions::from_str(&config.url)?;
    if let Some(schema) = &config.schema {
        // Create the schema with a one-off connection, then make it every pooled
        // connection's search path so unqualified table names resolve there.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        // The schema name is configuration, quoted as an identifier; it cannot be a bind parameter.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            quote_ident(schema)
        )))
        .execute(&pool)
        .await?;
        pool.close().await;
        // `public` stays on the path for extensions installed there (btree_gist).
        let search_path = format!("{schema}, public");
        options = options.options([("search_path", search_path.as_str())]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// WAL pages after which the writer's own commit checkpoints (SQLite's default is 1,000, about
/// 4 MB). Only a backstop: the server checkpoints on its own connection far sooner (see
/// [`Store::checkpoint`]), and a process that does not, such as a one-off command, still
/// keeps its log bounded at about 40 MB.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The writer's page cache, in KiB (SQLite's default is 2 MiB). The one writer is the only
/// connection that changes pages, so what it caches stays valid; a batch of bookings touches
/// pages all over the appointments' and slots' indexes, and each miss was a read from the
/// file and a copy.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

/// Rows the writer's connection thread may hand back before the caller takes them (sqlx's
/// default is 50). A booking batch's statements return up to one row per booking; with 50 the
/// thread stopped after every 50 and waited to be woken again, a dozen hand-offs per batch
/// instead of one.
const WRITER_ROW_BUFFER: usize = 4 * crate::booking::MAX_BATCH;

/// How much of the database file each connection maps (address space, not memory: the pages
/// are the kernel's page cache, shared). Beyond it, pages are read as before.
const MMAP_BYTES: u64 = 1 << 30;

async fn connect_sqlite(path: PathBuf, config: &DatabaseConfig) -> Result<Backend, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit survives power loss in WAL mode; NORMAL would not (principle 2).
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Savepoints keep a copy of every page they change (the statement journal) so that
        // a rollback to them can restore it; a booking batch runs inside one. In a temporary
        // file that was 2 writes per page changed, as many as the log itself; in memory it
        // is a copy. Sorts and temporary indexes go there too.
        .pragma("temp_store", "MEMORY")
        // Pages of the database file are read through a memory map rather than a read and a
        // copy into each connection's cache: as a rush grows the file past the caches, the
        // writer's misses were system calls on the booking path.
        .pragma("mmap_size", MMAP_BYTES.to_string())
        .busy_timeout(Duration::from_secs(5));
    // No ping before each checkout (sqlx's default): a connection to a local file cannot
    // have been dropped by a peer, and the ping was a round trip to the connection's thread
    // and back on every query, as much as many a query itself.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(config.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(
            options
                .clone()
                .pragma(
                    "wal_autocheckpoint",
                    WRITER_AUTOCHECKPOINT_PAGES.to_string(),
                )
                .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                .row_buffer_size(WRITER_ROW_BUFFER),
        )
        .await?;
    let checkpointer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(config.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    // Every reader is opened now and kept open, not on demand. Opening one reads the whole
    // schema (~100 tables, indexes and triggers): 1–18 ms each under load, and a pool that
    // grows on demand — or has shrunk overnight by its idle timeout — opened them in the
    // first milliseconds of a rush, ahead of the requests that needed them (BENCHMARKS.md,
    // session 23).
    let readers = config.max_connections.max(1);
    let reader = SqlitePoolOptions::new()
        .min_connections(readers)
        .max_connections(readers)
        .acquire_timeout(config.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(options.read_only(true))
        .await?;
    Ok(Backend::Sqlite {
        writer,
        reader,
        checkpointer,
    })
}

/// Runs a query that needs the schema on each of `pool`'s connections, holding each until
/// all have run, so that no connection is used twice.
async fn read_schema_on_every_connection(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        let mut connection = pool.acquire().await?;
        sqlx::query("SELECT COUNT(*) FROM sqlite_schema")
            .fetch_one(&mut *connection)
            .await?;
        held.push(connection);
    }
    Ok(())
}

/// Quotes a PostgreSQL identifier (schema names come from configuration).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
