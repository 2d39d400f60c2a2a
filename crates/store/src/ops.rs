//! Counts for operations dashboards (the server's `/metrics`): read-only, served by indexes,
//! run once per scrape. They say how much, never whose.

use crate::{Store, StoreError, with_reader};

/// Open alarms (active or acknowledged) installation-wide, as (priority, status, count).
pub async fn open_alarms(store: &Store) -> Result<Vec<(String, String, i64)>, StoreError> {
    let rows = with_reader!(store, pool => {
        sqlx::query_as::<_, (String, String, i64)>(
            "SELECT priority, status, COUNT(*) FROM alarms \
             WHERE status IN ('active', 'acknowledged') GROUP BY priority, status",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}
