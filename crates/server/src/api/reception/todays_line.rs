//! Today's line of one department, as the reception desk sees it.

use axum::Json;
use axum::extract::{Path, State};
use docde_domain::reception::local_day;
use docde_store::reception::visits;
use uuid::Uuid;

use super::VisitList;
use super::lookups::department_of;
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, authorize};
use crate::problem::ApiError;
use crate::reception::views::VisitView;
use crate::state::AppState;

/// Today's line of one department for the reception desk (patient ids, no names).
#[utoipa::path(get, operation_id = "reception_line", path = "/api/v1/hospitals/{id}/reception/lines/{department}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"), ("department" = String, Path, description = "Department code")),
    responses((status = 200, description = "Today's visits in line order", body = VisitList)))]
pub async fn line(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path((hospital_id, department)): Path<(Uuid, String)>,
) -> Result<Json<VisitList>, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    authorize(
        &Principal::User(me),
        Action::ManageLine,
        Target::Hospital(hospital_id),
    )?;
    let department = department_of(&department, &facts)?;
    let day = local_day(state.reception.clock.now(), facts.tz);
    let items = visits::of_line(&state.store, hospital_id, &department, day)
        .await?
        .iter()
        .map(VisitView::of)
        .collect();
    Ok(Json(VisitList { items }))
}
