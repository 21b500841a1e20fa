//! `GET /healthz` (the process is alive: no store access) and `GET /readyz` (core's
//! readiness: 200 when ready, 503 naming the failed check otherwise).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::proto::v1::{HealthResponse, ReadinessResponse};

#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The process is alive (the database is not asked)", body = HealthResponse)))]
pub async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "alive".to_owned(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "Ready: every check passed", body = ReadinessResponse),
        (status = 503, description = "Not ready: the failed check is named", body = ReadinessResponse)))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    let readiness = s.core.readiness().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}
