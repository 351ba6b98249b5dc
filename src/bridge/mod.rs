//! The domain: what the service does with the outside APIs and the store. Connecting a CRM
//! account, its Telegram bots as MessageGateway channels, and the message bridge itself:
//! webhooks are accepted into a durable queue (`ingest`), and workers (`worker`) deliver each
//! job through `inbound` (Telegram → MG) or `outbound` (MG → Telegram), sharing their slots
//! fairly between accounts (`schedule`) and draining
//! a backlog at once when a peer that was down answers again (`recovery`).

pub mod avatar;
pub mod channel_settings;
pub mod channels;
pub mod connect;
pub mod delivery;
pub mod file_budget;
pub mod group_commit;
pub mod inbound;
pub mod ingest;
pub mod metrics;
pub mod mg_access;
pub mod outbound;
pub mod recovery;
pub mod schedule;
pub mod simple_connection;
pub mod telegram_rate;
pub mod worker;
