//! Reading visits: who may read one, one visit with its place in line, and the caller's own
//! recent visits.

use axum::Json;
use axum::extract::{Path, State};
use docde_store::reception::{Visit, visits};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::place;
use crate::auth::{CurrentUser, Principal, UserPrincipal};
use crate::authz::{Action, Target, authorize};
use crate::problem::ApiError;
use crate::reception::views::VisitView;
use crate::state::AppState;

/// A visit the caller may read (404 otherwise, so its existence is not revealed).
pub(crate) async fn readable_visit(
    state: &AppState,
    me: &UserPrincipal,
    id: Uuid,
) -> Result<Visit, ApiError> {
    let visit = visits::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = Target::Visit {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
    };
    authorize(&Principal::User(me.clone()), Action::ReadVisit, target)
        .map_err(|_| ApiError::NotFound)?;
    Ok(visit)
}

/// One visit with its place in line.
#[utoipa::path(get, operation_id = "reception_get_visit", path = "/api/v1/reception/visits/{id}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Visit id")),
    responses((status = 200, description = "The visit", body = VisitView)))]
pub async fn get_visit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<VisitView>, ApiError> {
    let visit = readable_visit(&state, &me, id).await?;
    let mut view = VisitView::of(&visit);
    place(&state, &visit, &mut view).await?;
    Ok(Json(view))
}

/// My visits.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitList {
    pub items: Vec<VisitView>,
}

/// My visits of today and yesterday (newest first), with places in line.
#[utoipa::path(get, operation_id = "reception_my_visits", path = "/api/v1/me/visits", tag = "reception", security(("bearer" = [])),
    responses((status = 200, description = "My recent visits", body = VisitList)))]
pub async fn my_visits(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<VisitList>, ApiError> {
    let since = state.reception.clock.now().date_naive() - chrono::Days::new(1);
    let mut items = Vec::new();
    for v in visits::of_patient(&state.store, me.id, since).await? {
        let mut view = VisitView::of(&v);
        place(&state, &v, &mut view).await?;
        items.push(view);
    }
    Ok(Json(VisitList { items }))
}
