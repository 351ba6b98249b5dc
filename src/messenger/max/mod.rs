//! MAX, VK's messenger: its Bot API client (our own, on reqwest, with the token in a header)
//! and the bridge's MAX side behind the messenger seam (`messenger::Messengers`).
//!
//! - [`client`]: `GET /me`, subscriptions, messages, uploads, chat members; [`types`] from the
//!   official OpenAPI file (`protocol/max-bot-api.schema.yaml`), read tolerantly;
//! - [`inbound`]: what the webhook accepts, and a customer's update → MG;
//! - [`outbound`]: an operator's message, edit or delete → MAX;
//! - [`delivery`]: the seam's methods, the per-bot limit ([`rate`]), and how MAX's refusals
//!   end a delivery; [`channel_settings`]: what a MAX channel declares to MG.

pub mod channel_settings;
pub mod client;
pub mod delivery;
mod error;
pub mod inbound;
pub mod outbound;
pub mod rate;
mod token;
pub mod types;

pub use delivery::Max;
pub use error::MaxError;
pub use token::{MaxToken, MaxTokenError};

/// The header MAX puts the subscription's secret in.
pub const SECRET_HEADER: &str = "x-max-bot-api-secret";
