//! # mgbridge
//!
//! A transport module that bridges Telegram bots to a CRM's chat through the CRM's
//! MessageGateway (MG). A tour, top to bottom (arrows point down, as data flows):
//!
//! - [`cli`] → [`app`]: the command line, then building the service (key, store, clients,
//!   router) and running it until SIGINT/SIGTERM.
//! - [`web`]: axum handlers: the connect page and the CRM's simple (one-step) connection, the
//!   settings page (bots), the CRM's `activity` callback, the Telegram and MG webhooks,
//!   avatars, health and metrics.
//! - [`bridge`]: the domain, the same for every messenger: connecting a CRM account
//!   (integration guide steps 4–7), its bots as MG channels (steps 8–10), MG calls with token
//!   recovery, and the message bridge: webhooks are committed to a durable queue before they
//!   are answered (`bridge::ingest`), and a worker (`bridge::worker`) delivers each chat's
//!   messages in order, each job carried by `bridge::courier`, its slots shared round robin
//!   between accounts (`bridge::schedule`).
//! - [`messenger`]: the seam between the bridge and each messenger (`messenger::Messengers`),
//!   and one folder per messenger: `messenger::telegram` holds the Bot API client, and the
//!   mapping both ways (`inbound`: Telegram → MG, `outbound`: MG → Telegram).
//! - The clients of the other outside APIs: [`crm`] (System API, behind the SSRF guard) and
//!   [`mg`] (Transport API, rate-limited per token); what every client shares (the client
//!   builder, bounded body reads, error texts without URLs) is in `http`.
//! - [`store`]: sqlx over SQLite (default) or Postgres, one schema for both: accounts,
//!   channels, the queue (`store::queue` explains ordering, fairness and replicas), sent parts.
//!
//! Beside them: [`config`] (layered settings), [`crypto`] (secrets at rest), [`domain`]
//! (types parsed at the edge), [`i18n`] (the languages merchants and customers read),
//! [`telemetry`] (logs).

pub mod app;
pub mod bridge;
pub mod cli;
pub mod config;
pub mod crm;
pub mod crypto;
pub mod domain;
mod http;
pub mod i18n;
pub mod messenger;
pub mod mg;
pub mod store;
pub mod telemetry;
pub mod web;
