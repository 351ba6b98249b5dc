//! The domain: what the service does with the outside APIs and the store. Connecting a CRM
//! account, its messenger bots as MessageGateway channels, and the message bridge itself:
//! webhooks are accepted into a durable queue (`ingest`), and workers (`worker`) have each job
//! carried (`courier`) by the channel's messenger behind the seam (`messenger::Messengers`),
//! sharing their slots fairly between accounts (`schedule`) and draining a backlog at once
//! when a peer that was down answers again (`recovery`). Beside them, the health monitor
//! (`monitor`) checks each bot and tells the CRM's administrators of failures, and
//! `chat_clock` records the operators' response times. Nothing here knows a messenger's API.

pub mod account_locks;
pub mod activity;
pub mod avatar;
pub mod business;
pub mod channels;
pub mod chat_clock;
pub mod connect;
pub mod courier;
pub mod delivery;
pub mod failures;
pub mod file_budget;
pub mod group_commit;
pub mod ingest;
pub mod metrics;
pub mod mg_access;
pub mod mg_reply;
pub mod monitor;
pub mod operator_files;
pub mod recovery;
pub mod schedule;
pub mod simple_connection;
pub mod worker;
