//! MessageGateway's Transport API (`protocol/transport-api.md`): a typed client whose every
//! request, from any code path and retries included, passes one per-token rate limiter.
//!
//! - [`MgClient`]: one per process (cheap to clone); holds the HTTP client and the limiter.
//! - [`MgApi`]: `client.api(endpoint_url, token)`, one account's handle with a method per
//!   operation; `.with_priority(Priority::Customer)` for the calls delivering a customer's
//!   message, which then pass before the token's bulk calls ([`Priority`]).
//! - [`MgError`]: what a call can end in; `Unauthorized` means "ask the CRM for the token".
//!
//! The request and answer types are in `types.rs` (one file per part of the API under
//! `types/`); `tests/api/mg_client.rs` checks every request the client sends against the
//! vendor's OpenAPI document in `protocol/`.

mod client;
mod error;
mod gate;
mod limiter;
mod types;
mod webhook;

pub use client::{MgApi, MgClient, UploadBody};
pub use error::MgError;
pub use gate::Priority;
pub use types::*;
pub use webhook::*;
