//! The messengers a CRM chat is bridged to. Telegram only, for now.

pub mod telegram;
