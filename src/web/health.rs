//! Liveness (the process answers), readiness (the database takes a write too), and metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/health/live",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
}

/// Prometheus text: delivery counters of this process, queue depth of the whole database.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let queue = state.store.queue_stats().await.ok();
    let mut page = state.metrics.render(queue, &state.courier.files);
    if let Ok(open) = state.store.open_alert_counts().await {
        page.push_str(&super::bot_health::render_alert_metrics(&open));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        page,
    )
}

/// 503 while the database refuses writes, since webhooks are answered 503 then too: a load
/// balancer sends traffic elsewhere and an operator sees why.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "ok"})),
        ),
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "readiness check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unavailable"})),
            )
        }
    }
}
