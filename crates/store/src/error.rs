//! Store errors, classified so the HTTP layer can answer precisely without seeing SQL.

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded right now; retrying later may work.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A uniqueness, foreign-key or check constraint refused the write. Callers map the
    /// constraint name to a domain error where they wrote the query.
    #[error("constraint {constraint} violated")]
    Constraint {
        constraint: String,
        source: sqlx::Error,
    },
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(e),
            sqlx::Error::Database(db) => {
                if let Some(constraint) = db.constraint() {
                    return StoreError::Constraint {
                        constraint: constraint.to_owned(),
                        source: e,
                    };
                }
                // SQLite reports no constraint name; its message names the index columns.
                if db.is_unique_violation()
                    || db.is_foreign_key_violation()
                    || db.is_check_violation()
                {
                    let constraint = db.message().to_owned();
                    return StoreError::Constraint {
                        constraint,
                        source: e,
                    };
                }
                // SQLite's RAISE(ABORT, 'name') in a trigger (SQLITE_CONSTRAINT_TRIGGER): the
                // migrations use the protected rule's name as the message.
                if db.code().as_deref() == Some("1811") {
                    let constraint = db.message().to_owned();
                    return StoreError::Constraint {
                        constraint,
                        source: e,
                    };
                }
                // PostgreSQL shutting down / starting up / too many connections.
                match db.code().as_deref() {
                    Some("57P01" | "57P02" | "57P03" | "53300") => StoreError::Unavailable(e),
                    _ => StoreError::Other(e),
                }
            }
            _ => StoreError::Other(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => StoreError::Other(sqlx::Error::Migrate(Box::new(other))),
        }
    }
}

impl StoreError {
    /// Whether the constraint named `name` caused this error, matching `name` as a part of
    /// what the database reports. PostgreSQL reports the constraint's or index's name. SQLite
    /// reports a trigger's rule by name, but a unique index only by its columns
    /// (`UNIQUE constraint failed: users.email_key`), so callers pass a part both spellings
    /// share (a column's name) or check both (`booking::tickets::is_repeated_key`).
    pub fn is_constraint(&self, name: &str) -> bool {
        matches!(self, StoreError::Constraint { constraint, .. } if constraint.contains(name))
    }
}

/// A description of a database error safe to send outside the process (error reports):
/// the error's kind, SQLSTATE/SQLite code and constraint name, never the server's message,
/// which can echo the values of the statement (names, phone numbers, record text).
/// `None` when `error` is neither a [`StoreError`] nor a `sqlx::Error`.
pub fn redacted(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(e) = error.downcast_ref::<StoreError>() {
        return Some(match e {
            StoreError::Unavailable(inner) => format!("database unavailable ({})", kind(inner)),
            // Constraint names come from the migrations (on SQLite, "UNIQUE constraint failed:
            // table.column" or a trigger's rule name): schema words, not values.
            StoreError::Constraint { constraint, .. } => {
                format!("constraint {constraint} violated")
            }
            StoreError::Other(inner) => format!("database error ({})", kind(inner)),
        });
    }
    error
        .downcast_ref::<sqlx::Error>()
        .map(|e| format!("database error ({})", kind(e)))
}

fn kind(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => {
            let class = match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => "unique violation",
                sqlx::error::ErrorKind::ForeignKeyViolation => "foreign key violation",
                sqlx::error::ErrorKind::NotNullViolation => "not null violation",
                sqlx::error::ErrorKind::CheckViolation => "check violation",
                _ => "statement failed",
            };
            let code = db.code().map(|c| format!(", code {c}")).unwrap_or_default();
            let constraint = db
                .constraint()
                .map(|c| format!(", constraint {c}"))
                .unwrap_or_default();
            let table = db
                .table()
                .map(|t| format!(", table {t}"))
                .unwrap_or_default();
            format!("{class}{code}{constraint}{table}")
        }
        sqlx::Error::RowNotFound => "row not found".into(),
        sqlx::Error::PoolTimedOut => "pool timed out".into(),
        sqlx::Error::PoolClosed => "pool closed".into(),
        sqlx::Error::Io(e) => format!("io: {:?}", e.kind()),
        sqlx::Error::Tls(_) => "tls".into(),
        sqlx::Error::Protocol(_) => "protocol".into(),
        sqlx::Error::ColumnNotFound(name) => format!("column not found: {name}"),
        sqlx::Error::ColumnDecode { index, .. } => format!("column decode: {index}"),
        sqlx::Error::Decode(_) => "decode".into(),
        sqlx::Error::TypeNotFound { type_name } => format!("type not found: {type_name}"),
        sqlx::Error::Migrate(_) => "migration".into(),
        sqlx::Error::Configuration(_) => "configuration".into(),
        _ => "other".into(),
    }
}
