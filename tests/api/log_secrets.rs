//! No secret reaches the logs. The connect flow and the add-bot flow run with every event and
//! every span's fields captured at TRACE (the `log` crate's records too), and the output must
//! not contain the API key, the MG token, the bot token (or its secret part), the webhook
//! secret or the clientId.

use crate::helpers::{capture_logs_and_spans, spawn_app, Db};
use crate::on_both_databases;

on_both_databases!(
    connecting_and_adding_a_bot_logs_no_secret,
    a_max_bot_and_its_messages_log_no_secret
);

async fn connecting_and_adding_a_bot_logs_no_secret(db: Db) {
    // Before the service starts, so its start-up is captured as well.
    let logs = capture_logs_and_spans();
    let app = spawn_app(db).await;
    let bridge = app.connect_with_bot().await;
    let text = logs.text();

    // The capture saw the flows, store spans included: an empty log would pass trivially.
    for expected in [
        "CRM account connected",
        "save_connected_account",
        "save_channel",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not captured:\n{text}"
        );
    }
    let bot_token = crate::fake_telegram::TOKEN;
    let secrets = [
        ("the API key", crate::fake_crm::API_KEY),
        ("the MG token", crate::fake_crm::MG_TOKEN),
        ("the bot token", bot_token),
        (
            "the bot token's secret part",
            bot_token.split_once(':').unwrap().1,
        ),
        ("the webhook secret", bridge.webhook_secret.as_str()),
        ("the clientId", bridge.client_id.as_str()),
    ];
    let leaks: Vec<String> = secrets
        .iter()
        .flat_map(|(name, secret)| {
            let lines = text.lines().filter(move |line| line.contains(secret));
            lines.map(move |line| format!("{name}: {line}"))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "secrets in the logs:\n{}",
        leaks.join("\n")
    );
}

/// The same for a MAX bot: adding it, a customer's message and an operator's reply, at TRACE.
async fn a_max_bot_and_its_messages_log_no_secret(db: Db) {
    let logs = capture_logs_and_spans();
    let app = spawn_app(db).await;
    let bridge = app.connect_with_max_bot().await;
    let update =
        crate::fake_max::updates::message_created(5, "Ann", None, 77, "mid.l1", Some("hi"));
    assert_eq!(app.post_max_update(&bridge, &update).await.status(), 200);
    app.wait_for_jobs("done", 1).await;
    let text = logs.text();
    assert!(text.contains("save_channel"), "not captured:\n{text}");
    assert!(
        text.contains("bot added"),
        "the adding was not captured:\n{text}"
    );
    for (name, secret) in [
        ("the MAX token", crate::fake_max::TOKEN),
        ("the webhook secret", bridge.webhook_secret.as_str()),
        ("the clientId", bridge.client_id.as_str()),
    ] {
        let leak = text.lines().find(|line| line.contains(secret));
        assert!(leak.is_none(), "{name} in the logs: {leak:?}");
    }
}
