//! The crate's error type. Input errors are distinct variants so the HTTP layer can answer them
//! with a precise problem code; everything else is an internal index failure.

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cursor was not produced by this crate, or belongs to a different query.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The query text is longer than [`crate::MAX_QUERY_CHARS`] characters or has more than
    /// [`crate::MAX_QUERY_WORDS`] words.
    #[error("query text too long")]
    QueryTooLong,
    /// A distance sort with a latitude/longitude outside the valid ranges (or not finite).
    #[error("invalid coordinates")]
    InvalidCoordinates,
    /// `open_at` with a weekday outside 0..=6 or a minute outside 0..1440.
    #[error("invalid open_at")]
    InvalidOpenAt,
    /// tantivy failed (an internal error: log it, do not show it to users).
    #[error("search index failure")]
    Index(#[from] tantivy::TantivyError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
