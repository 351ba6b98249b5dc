//! The MessageGateway client against the fake MG: every operation, the per-token rate limit
//! measured where MG measures it (at arrival), retries, errors, and every request body checked
//! against the vendor's OpenAPI schema (`protocol/mg-transport-api.openapi.json`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::http::Method;
use mgbridge::config::MgSettings;
use mgbridge::domain::MgToken;
use mgbridge::mg::*;
use serde_json::{json, Map, Value};
use time::macros::datetime;

use crate::fake_mg::{FakeMg, DUPLICATE, TOKEN};

const OTHER_TOKEN: &str = "mg-token-fedcba9876543210fedcba9876543210";

fn settings(max_attempts: u32, timeout_seconds: u64) -> MgSettings {
    MgSettings {
        rate_limit_per_second: 30,
        rate_limit_burst: 5,
        rate_limit_window_margin_ms: 10,
        timeout_seconds,
        max_attempts,
        delivery: mgbridge::config::DeliveryMode::Async,
        reconcile_per_second: 20,
    }
}

fn api_for(fake: &FakeMg, client: &MgClient, token: &str) -> MgApi {
    client.api(&fake.url, &MgToken::new(token.to_owned()))
}

async fn fake_and_api(max_attempts: u32) -> (FakeMg, MgApi, MgChannelId) {
    let fake = FakeMg::start().await;
    let client = MgClient::new(&settings(max_attempts, 5)).unwrap();
    let api = api_for(&fake, &client, TOKEN);
    let channel = MgChannelId(fake.add_channel(TOKEN, "telegram"));
    (fake, api, channel)
}

fn ack(channel: MgChannelId, id: i64) -> AckMessageRequest {
    AckMessageRequest {
        channel,
        message: Some(MessageIdentifier::id(MgMessageId(id))),
        transport_message_id: Some(format!("tg-{id}")),
        created_at: None,
        error: None,
        external_message_id: None,
    }
}

mod fixtures;
mod operations;
mod rate_limit;
mod retries;
mod schema;
