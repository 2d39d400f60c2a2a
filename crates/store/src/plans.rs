//! The statements that take a batch of ids as a JSON array and look each one up, by dialect:
//! the session check every request waits on and the booking group's read on the one writer.
//! Exposed only for `tests/plans.rs`, which checks that each is answered by index lookups
//! on tables the planner has no statistics for (filled since their last `ANALYZE`), where
//! PostgreSQL had read whole tables into hash joins.

use crate::Store;

/// [`accounts::sessions::live_among`](crate::accounts::sessions::live_among)'s count: `$1` a
/// JSON array of session ids.
pub fn session_check(store: &Store) -> &'static str {
    crate::accounts::sessions::live_count_sql(store)
}

/// The booking group's read (`booking::grouped`): `$1` `[[patient, key]]`, `$2`
/// `[[doctor, start]]`, `$3` `[[patient, from, to]]`.
pub fn group_read(store: &Store) -> &'static str {
    crate::booking::group_read_sql(store)
}
