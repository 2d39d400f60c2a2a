//! A visit's line after a change: telling other instances and live views that it changed, and
//! where a waiting visit now stands in it.

use docde_store::reception::{Visit, visits};

use crate::problem::ApiError;
use crate::reception::line_topic;
use crate::reception::views::VisitView;
use crate::state::AppState;

/// Tells other instances and live views that a department's line changed (in the
/// background: the change is committed, a slow Redis must not delay the answer; views also
/// re-read every half second).
pub(crate) fn announce(state: &AppState, visit: &Visit) {
    let bus = state.bus.clone();
    let topic = line_topic(visit.hospital_id, &visit.department);
    tokio::spawn(async move {
        let _ = bus.publish(&topic, "changed").await;
    });
}

/// Fills in position, people ahead and the estimated wait of a waiting visit.
pub(crate) async fn place(
    state: &AppState,
    visit: &Visit,
    view: &mut VisitView,
) -> Result<(), ApiError> {
    if visit.status != "waiting" {
        return Ok(());
    }
    let ahead = visits::ahead_of(&state.store, visit).await?;
    let now = state.reception.clock.now();
    let day = visit.day.parse().unwrap_or_else(|_| now.date_naive());
    let snap = docde_store::reception::line::snapshot(
        &state.store,
        visit.hospital_id,
        &visit.department,
        day,
        now,
    )
    .await?;
    let typical = docde_domain::reception::typical_consultation_secs(&snap.recent_consultations);
    view.position = Some(ahead + 1);
    view.ahead = Some(ahead);
    view.estimated_wait_seconds = Some(docde_domain::reception::estimate_wait_secs(
        ahead,
        typical,
        snap.doctors,
    ));
    Ok(())
}
