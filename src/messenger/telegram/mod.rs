//! A small typed client of the Telegram Bot API, our own, on reqwest 0.12.
//!
//! Why not a crate: `frankenstein` and `tgbot` track the API closely but pull reqwest 0.13
//! (a second HTTP stack beside our 0.12); `teloxide` is on 0.12 but lags the API by about a
//! year and brings a whole bot framework. And the Bot API puts the bot token in the URL path
//! (`{api_url}/bot{token}/{method}`, files at `{api_url}/file/bot{token}/{path}`), so whoever
//! prints a URL, an HTTP error or a response's `Debug` prints a merchant's token. We need to
//! control every place a URL or an error is formed, which is easiest in code of our own: about
//! twenty methods, the types a chat bridge reads, and nothing else.
//!
//! - [`BotToken`]: the token, parsed at the edge, redacted in `Debug`.
//! - [`TelegramClient`] (one per service) → [`Bot`] (one per token): the methods, typed.
//! - [`TelegramError`]: what failed, with the helpers a delivery worker needs; never the token.
//! - The types: [`Update`] and what it carries, and the request structs.
//!
//! And the bridge's Telegram side, behind the messenger seam (`messenger::Messengers`):
//! - [`inbound`]: a customer's update → MG;
//! - [`outbound`]: an operator's message, edit, delete or reaction → the Bot API;
//! - [`rate`]: Telegram's flood limits, kept by us;
//! - [`delivery`]: what a delivery on a Telegram channel holds, and how refusals end it;
//! - [`avatar`]: a customer's profile photo, for the signed links MG gets;
//! - `bots`: checking a bot's token and setting its webhook; [`channel_settings`]: what a
//!   Telegram channel declares to MG.

pub mod avatar;
mod bots;
pub mod channel_settings;
mod client;
pub mod delivery;
mod error;
pub mod inbound;
pub mod markup;
pub mod outbound;
pub mod rate;
mod token;
mod types;

pub use client::{Bot, FileDownload, TelegramClient};
pub use delivery::Telegram;
pub use error::TelegramError;
pub use token::{BotToken, BotTokenError};
pub use types::*;
