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
    /// Whether the constraint named `name` caused this error. Works on both backends:
    /// PostgreSQL reports the name; for SQLite, unique indexes are named in the message.
    pub fn is_constraint(&self, name: &str) -> bool {
        matches!(self, StoreError::Constraint { constraint, .. } if constraint.contains(name))
    }
}
