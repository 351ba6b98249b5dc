//! Telegram's flood limits kept by us, not discovered by 429s: about 30 sends per second per
//! bot and about 1 per second per chat with short bursts (Bots FAQ). Two keyed GCRA limiters;
//! a send waits on its chat's limiter first, then on its bot's, so a busy chat never holds a
//! bot slot while it waits. Per process: the account lease (`store::queue`) keeps every bot's
//! sends in one replica, so the limits hold across replicas too.

use std::num::NonZeroU32;

use governor::state::keyed::DashMapStateStore;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::TelegramSettings;

#[derive(Debug)]
pub struct TelegramRate {
    per_bot: DefaultKeyedRateLimiter<i64>,
    per_chat: DefaultKeyedRateLimiter<(i64, i64)>,
}

impl TelegramRate {
    pub fn new(settings: &TelegramSettings) -> Self {
        let bot = NonZeroU32::new(settings.bot_messages_per_second).unwrap_or(NonZeroU32::MIN);
        let chat = NonZeroU32::new(settings.chat_messages_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.chat_burst).unwrap_or(NonZeroU32::MIN);
        Self {
            // No burst past the rate for the bot: 30 spread over the second.
            per_bot: RateLimiter::dashmap(Quota::per_second(bot).allow_burst(NonZeroU32::MIN)),
            per_chat: RateLimiter::new(
                Quota::per_second(chat).allow_burst(burst),
                DashMapStateStore::default(),
                governor::clock::DefaultClock::default(),
            ),
        }
    }

    /// Waits until bot `bot_id` may send one more message into chat `chat_id`.
    pub async fn until_ready(&self, bot_id: i64, chat_id: i64) {
        self.per_chat.until_key_ready(&(bot_id, chat_id)).await;
        self.per_bot.until_key_ready(&bot_id).await;
    }

    /// Forgets keys idle long enough to be full again (called by the janitor).
    pub fn shrink(&self) {
        self.per_bot.retain_recent();
        self.per_chat.retain_recent();
        self.per_bot.shrink_to_fit();
        self.per_chat.shrink_to_fit();
    }
}
