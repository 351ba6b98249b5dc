//! MAX's limit kept by us: about 30 requests per second per bot (GREEN-API's FAQ; MAX's own
//! documentation gives no figure, so the rate is a setting). Per process, like Telegram's: the
//! account lease keeps each bot's sends in one replica.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Debug)]
pub struct MaxRate {
    per_bot: DefaultKeyedRateLimiter<String>,
}

impl MaxRate {
    pub fn new(per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Self {
            per_bot: RateLimiter::dashmap(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)),
        }
    }

    /// Waits until bot `bot_id` may make one more call.
    pub async fn until_ready(&self, bot_id: &str) {
        self.per_bot.until_key_ready(&bot_id.to_owned()).await;
    }

    pub fn shrink(&self) {
        self.per_bot.retain_recent();
        self.per_bot.shrink_to_fit();
    }
}
