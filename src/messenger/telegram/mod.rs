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

mod client;
mod error;
mod token;
mod types;

pub use client::{Bot, FileDownload, TelegramClient};
pub use error::TelegramError;
pub use token::{BotToken, BotTokenError};
pub use types::*;
