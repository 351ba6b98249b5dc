//! HTTP: pages (connect; settings with the account's bots), the CRM's simple connection and
//! activity callback, the Telegram and MG webhooks, health and metrics, static assets.
//! Each module owns its routes; `router` stacks them with the cross-cutting layers.

mod activity;
mod avatar;
mod bot_health;
mod connect;
mod directory;
mod error;
mod failures;
mod health;
mod lang;
mod pages;
mod settings;
mod simple_connection;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::Router;
use axum_csrf::CsrfConfig;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::PageError;

use crate::bridge::activity::AccountActivity;
use crate::bridge::avatar::Avatars;
use crate::bridge::channels::Channels;
use crate::bridge::connect::Connector;
use crate::bridge::courier::Courier;
use crate::bridge::failures::Failures;
use crate::bridge::ingest::Ingest;
use crate::bridge::metrics::Metrics;
use crate::bridge::simple_connection::PartnerSecret;
use crate::config::DeliveryMode;
use crate::store::Store;

/// Form posts are a few hundred bytes; refuse anything much larger before reading it.
const MAX_FORM_BODY: usize = 64 * 1024;
const REQUEST_ID: &str = "x-request-id";

/// Everything handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Webhooks → durable jobs (group commit).
    pub ingest: Ingest,
    /// Channels and accounts webhooks named, cached briefly.
    pub directory: Arc<directory::Directory>,
    /// Delivers an operator's message inside the request (`mg.delivery = "sync"`).
    pub courier: Arc<Courier>,
    /// The CRM's `activity` callback's work.
    pub activity: Arc<AccountActivity>,
    /// Customers' profile photos behind our signed links.
    pub avatars: Arc<Avatars>,
    pub metrics: Arc<Metrics>,
    pub delivery_mode: DeliveryMode,
    pub connector: Arc<Connector>,
    pub channels: Arc<Channels>,
    /// The failed list's retry and discard.
    pub failures: Arc<Failures>,
    /// `module.simple_connection_secret`; `None` leaves the simple connection's routes out.
    pub simple_connection: Option<Arc<PartnerSecret>>,
    pub csrf: CsrfConfig,
    /// The module name shown on every page.
    pub module_name: Arc<str>,
    /// `[health]`: what the settings page counts as a failing webhook, and the failure rate.
    pub health: Arc<crate::config::HealthSettings>,
}

impl FromRef<AppState> for CsrfConfig {
    fn from_ref(state: &AppState) -> Self {
        state.csrf.clone()
    }
}

/// `webhook_concurrency`: webhook requests handled at once (`server.webhook_concurrency`).
pub fn router(state: AppState, request_timeout: Duration, webhook_concurrency: usize) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            // The span carries the request id and the route template, never the raw path:
            // settings URLs hold a clientId.
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "unmatched".to_owned());
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), route = %route, request_id = %id)
            })
            // One access-log line per request at INFO: status and latency.
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Settings URLs carry the clientId: never leak them in a Referer.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // No scripts at all. No `form-action` either: browsers apply it to the redirect after
        // a post too, and adding a bot ends in a redirect to the merchant's CRM.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'",
            ),
        ));

    // The pages, in the merchant's language (`lang`); the unknown address is a page too.
    let pages = Router::new()
        .merge(connect::router())
        .merge(settings::router())
        .merge(failures::router())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(lang::remember));

    Router::new()
        .merge(pages)
        .merge(simple_connection::router(state.simple_connection.is_some()))
        .merge(activity::router())
        .merge(health::router())
        .merge(webhooks::router(webhook_concurrency))
        .merge(avatar::router())
        .merge(pages::assets_router())
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY))
        .layer(layers)
        .with_state(state)
}
