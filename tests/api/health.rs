//! Bot health on the settings page and the CRM administrators' notifications (issue 14):
//! the monitor polls the fake Telegram, opens one failure state per failure, tells the fake
//! CRM once, and clears the state on recovery; response times come from a scripted
//! conversation through the real webhooks and workers.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::{json, Value};

use mgbridge::config::Settings;

use crate::bridge::{operator_message, text_update};
use crate::fake_telegram::{BOT_ID, BOT_USERNAME, TOKEN};
use crate::helpers::{metric, spawn_app_with, Bridge, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    a_revoked_token_notifies_once_and_recovery_clears_it,
    a_failure_rate_over_the_threshold_notifies_once,
    response_times_match_a_scripted_conversation,
    a_notification_is_claimed_by_one_reader,
);

const CHAT: i64 = 4_300_000_001;

/// Checks every tick (0: a bot is due at every tick), ticks ten times a second.
pub(crate) fn fast_health(settings: &mut Settings) {
    settings.health.poll_seconds = 0;
    settings.health.tick_ms = 100;
    settings.health.notify_retry_seconds = 1;
}

/// Checks at 100 ms ticks that take longer than `notify_retry_seconds` (1 s): a notification
/// that would be repeated is seen within them.
const RETRY_CHECKS: usize = 20;

/// Polls `check` until it returns `Some` (15 s at most).
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of `.{field}` in the health section of the bot `@username`.
pub(crate) fn bot_field(html: &str, username: &str, field: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let css = format!("section.bot-health[data-username=\"{username}\"] .{field}");
    let selector = Selector::parse(&css).unwrap();
    doc.select(&selector)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_owned())
}

/// Every problem stated for the bot `@username`.
pub(crate) fn bot_problems(html: &str, username: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let css = format!("section.bot-health[data-username=\"{username}\"] .problem");
    let selector = Selector::parse(&css).unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

fn account_problems(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(".account-problem").unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// Waits until the monitor has checked the bot `n` more times (the fake records each call),
/// so that what did not happen meanwhile is known not to happen per check.
async fn more_checks(app: &TestApp, n: usize) {
    let before = app.telegram.calls_to("getWebhookInfo").len();
    eventually(&format!("{n} more checks"), || async {
        (app.telegram.calls_to("getWebhookInfo").len() >= before + n).then_some(())
    })
    .await;
}

async fn open_states(app: &TestApp, kind: &str) -> f64 {
    let page = app.get("/metrics").await.text().await.unwrap();
    metric(
        &page,
        &format!("mgbridge_failure_states_open{{kind=\"{kind}\"}}"),
    )
}

const REVOKED: &str =
    "The token of @acme_shop_bot was revoked in @BotFather: add the bot again with its new token.";

async fn a_revoked_token_notifies_once_and_recovery_clears_it(db: Db) {
    let app = spawn_app_with(db, fast_health).await;
    let bridge = app.connect_with_bot().await;
    let html = eventually("the first check", || async {
        let html = app.settings_html(&bridge.client_id).await;
        (bot_field(&html, BOT_USERNAME, "token").as_deref() == Some("valid")).then_some(html)
    })
    .await;
    assert_eq!(bot_problems(&html, BOT_USERNAME), Vec::<String>::new());
    assert_eq!(
        bot_field(&html, BOT_USERNAME, "webhook").as_deref(),
        Some("working (updates waiting: 0)")
    );

    // The merchant revokes the token in @BotFather: Telegram answers 401 from now on.
    app.telegram.revoke(TOKEN);
    let sent = eventually("a notification", || async {
        let sent = app.crm.notifications();
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    let settings_url = format!("{PUBLIC_URL}/settings/{}", bridge.client_id);
    assert_eq!(sent[0]["userGroups"], json!(["superadmins"]));
    assert_eq!(sent[0]["type"], "api.error");
    assert_eq!(
        sent[0]["message"],
        format!("Acme Messenger: {REVOKED} Settings: {settings_url}")
    );
    let call = app.crm.requests_to("/api/v5/notifications/send").remove(0);
    assert_eq!(call.api_key.as_deref(), Some(crate::fake_crm::API_KEY));
    // Checks go on, the state stays open, and nobody is told twice, also past the time a
    // notification not taken would be tried again (`notify_retry_seconds`).
    more_checks(&app, RETRY_CHECKS).await;
    assert_eq!(app.crm.notifications().len(), 1);
    let html = app.settings_html(&bridge.client_id).await;
    assert_eq!(bot_problems(&html, BOT_USERNAME), [REVOKED]);
    assert_eq!(
        bot_field(&html, BOT_USERNAME, "token").as_deref(),
        Some("revoked")
    );
    assert_eq!(open_states(&app, "token_revoked").await, 1.0);

    // The merchant adds the bot again with its (new) token: the state clears.
    app.telegram.add_bot(TOKEN, BOT_ID, BOT_USERNAME);
    let page = app.add_bot(&bridge.client_id, TOKEN).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    eventually("the state cleared", || async {
        let html = app.settings_html(&bridge.client_id).await;
        (bot_problems(&html, BOT_USERNAME).is_empty()
            && bot_field(&html, BOT_USERNAME, "token").as_deref() == Some("valid"))
        .then_some(())
    })
    .await;
    assert_eq!(open_states(&app, "token_revoked").await, 0.0);
    assert_eq!(app.crm.notifications().len(), 1);

    // A new failure is a new state, told again.
    app.telegram.revoke(TOKEN);
    eventually("a second notification", || async {
        (app.crm.notifications().len() == 2).then_some(())
    })
    .await;
}

async fn a_failure_rate_over_the_threshold_notifies_once(db: Db) {
    let app = spawn_app_with(db, fast_health).await;
    let bridge = app.connect_with_bot().await;
    // 8 delivered: under the threshold whatever fails next, until more than 20 % of at least 10.
    for id in 0..8 {
        post(
            &app,
            &bridge,
            operator_message(&bridge, 100 + id, CHAT, "ok"),
        )
        .await;
    }
    app.wait_for_jobs("done", 8).await;
    more_checks(&app, 3).await;
    assert!(app.crm.notifications().is_empty(), "8 of 8 delivered");
    // 3 of 11 fail (27 %): MG refuses the customers' messages for good.
    app.mg.fail_next_on("/messages", 3, 400);
    for id in 0..3 {
        let update = text_update(id + 1, CHAT, id + 1, "hello?");
        assert_eq!(
            app.post_telegram_update(&bridge, &update).await.status(),
            StatusCode::OK
        );
    }
    app.wait_for_jobs("failed", 3).await;
    let sent = eventually("a notification", || async {
        let sent = app.crm.notifications();
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    let problem = "More than 20 % of the messages of the last 15 minutes could not be delivered: open the failed deliveries to see why.";
    assert_eq!(
        sent[0]["message"],
        format!(
            "Acme Messenger: {problem} Settings: {PUBLIC_URL}/settings/{}",
            bridge.client_id
        )
    );
    more_checks(&app, RETRY_CHECKS).await;
    assert_eq!(app.crm.notifications().len(), 1, "told once");
    let html = app.settings_html(&bridge.client_id).await;
    assert_eq!(account_problems(&html), [problem]);
    assert_eq!(
        bot_field(&html, BOT_USERNAME, "failed").as_deref(),
        Some("3")
    );
    assert_eq!(
        bot_field(&html, BOT_USERNAME, "delivered").as_deref(),
        Some("8")
    );
    assert_eq!(open_states(&app, "delivery_failures").await, 1.0);

    // Deliveries go through again: 3 of 16 (19 %) is under the threshold, and the state closes.
    for id in 0..5 {
        post(
            &app,
            &bridge,
            operator_message(&bridge, 300 + id, CHAT, "ok"),
        )
        .await;
    }
    app.wait_for_jobs("done", 13).await;
    eventually("the state closed", || async {
        (open_states(&app, "delivery_failures").await == 0.0).then_some(())
    })
    .await;
    let html = app.settings_html(&bridge.client_id).await;
    assert_eq!(account_problems(&html), Vec::<String>::new());
    assert_eq!(app.crm.notifications().len(), 1);
}

async fn response_times_match_a_scripted_conversation(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let bridge = app.connect_with_bot().await;
    let mut update_id = 0;
    let mut customer_writes = |chat: i64| {
        update_id += 1;
        text_update(update_id, chat, update_id, "hello?")
    };
    // Chats A and B are answered after 5 and 10 minutes, C waits 20 minutes with no answer,
    // D wrote just now. The waits are scripted by moving the time the chat started waiting
    // back, as if the customer had written that long ago.
    const A: i64 = 4_300_000_011;
    const B: i64 = 4_300_000_012;
    const C: i64 = 4_300_000_013;
    const D: i64 = 4_300_000_014;
    let mut mg_id = 500;
    for (chat, waited_minutes, answered) in
        [(A, 5, true), (B, 10, true), (C, 20, false), (D, 0, false)]
    {
        let answer = app
            .post_telegram_update(&bridge, &customer_writes(chat))
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
        waiting_since(&app, chat).await;
        sqlx::query("UPDATE chat_wait SET waiting_since = waiting_since - $1 WHERE chat_id = $2")
            .bind(waited_minutes * 60_000)
            .bind(chat.to_string())
            .execute(app.store.pool())
            .await
            .unwrap();
        if answered {
            let samples = sample_count(&app).await;
            // Two replies: only the first counts.
            for _ in 0..2 {
                mg_id += 1;
                post(&app, &bridge, operator_message(&bridge, mg_id, chat, "yes")).await;
            }
            eventually("the reply sample", || async {
                (sample_count(&app).await == samples + 1).then_some(())
            })
            .await;
        }
    }
    app.wait_for_jobs("done", 8).await;
    // The second replies are recorded too (last operator message), after the first.
    eventually("every event recorded", || async {
        let html = app.settings_html(&bridge.client_id).await;
        (bot_field(&html, BOT_USERNAME, "replies").as_deref() == Some("2")).then_some(())
    })
    .await;
    let html = app.settings_html(&bridge.client_id).await;
    let field = |name| bot_field(&html, BOT_USERNAME, name).unwrap();
    assert_eq!(field("reply-p50"), "5 min");
    assert_eq!(field("reply-p90"), "10 min");
    assert_eq!(field("unanswered"), "1");
    assert_eq!(field("delivered"), "8");
    assert_eq!(field("failed"), "0");
    assert_eq!(field("blocked"), "0");
    assert_ne!(field("last-in"), "never");
    assert_ne!(field("last-out"), "never");
    // Answered chats wait no more; C and D still do.
    let waits: Vec<(String, i64)> =
        sqlx::query_as("SELECT chat_id, waiting_since FROM chat_wait ORDER BY chat_id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        waits.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        [C.to_string(), D.to_string()]
    );
}

async fn post(app: &TestApp, bridge: &Bridge, webhook: Value) {
    let answer = app.post_mg_webhook(&bridge.client_id, &webhook).await;
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn waiting_since(app: &TestApp, chat: i64) -> i64 {
    eventually("the chat waiting", || async {
        sqlx::query_scalar::<_, i64>("SELECT waiting_since FROM chat_wait WHERE chat_id = $1")
            .bind(chat.to_string())
            .fetch_optional(app.store.pool())
            .await
            .unwrap()
    })
    .await
}

async fn sample_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM reply_sample")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_failing_webhook_is_shown_and_told_once() {
    let app = spawn_app_with(Db::Sqlite, fast_health).await;
    let bridge = app.connect_with_bot().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    app.telegram
        .set_webhook_trouble(TOKEN, Some((now, "Connection timed out", 42)));
    let sent = eventually("a notification", || async {
        let sent = app.crm.notifications();
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    assert!(
        sent[0]["message"]
            .as_str()
            .unwrap()
            .contains("Telegram cannot deliver the messages of @acme_shop_bot"),
        "{}",
        sent[0]
    );
    let html = app.settings_html(&bridge.client_id).await;
    assert_eq!(
        bot_field(&html, BOT_USERNAME, "webhook").as_deref(),
        Some("failing: Connection timed out (updates waiting: 42)")
    );
    assert_eq!(bot_problems(&html, BOT_USERNAME).len(), 1);
    more_checks(&app, RETRY_CHECKS).await;
    assert_eq!(app.crm.notifications().len(), 1);
    // Delivered again: the error is old news once nothing waits.
    app.telegram
        .set_webhook_trouble(TOKEN, Some((now, "Connection timed out", 0)));
    eventually("the state cleared", || async {
        (open_states(&app, "webhook_failing").await == 0.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_notification_the_crm_does_not_take_is_tried_again() {
    let app = spawn_app_with(Db::Sqlite, fast_health).await;
    app.crm.set(|s| s.refuse_notifications = 2);
    let _bridge = app.connect_with_bot().await;
    app.telegram.revoke(TOKEN);
    eventually("the notification taken on the third try", || async {
        (app.crm.notifications().len() == 1).then_some(())
    })
    .await;
    assert_eq!(app.crm.requests_to("/api/v5/notifications/send").len(), 3);
}

#[tokio::test]
async fn an_mg_token_nobody_can_replace_is_told() {
    let app = spawn_app_with(Db::Sqlite, fast_health).await;
    let client_id = app.connect_fake_crm().await;
    app.mg.refuse_token(crate::fake_crm::MG_TOKEN); // and the CRM hands out the same one
    let page = app.add_bot(&client_id, TOKEN).await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY);
    let sent = eventually("a notification", || async {
        let sent = app.crm.notifications();
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    assert!(
        sent[0]["message"]
            .as_str()
            .unwrap()
            .contains("refuses this account's token and the CRM gave no new one"),
        "{}",
        sent[0]
    );
    assert_eq!(open_states(&app, "mg_token_refused").await, 1.0);
}

#[tokio::test]
async fn a_max_bots_revoked_token_is_told_in_the_accounts_language() {
    let app = spawn_app_with(Db::Sqlite, fast_health).await;
    // The CRM's own language is Russian: the account's texts are.
    app.crm.set(|s| s.system_language = Some("RU"));
    let bridge = app.connect_with_max_bot().await;
    let username = crate::fake_max::BOT_USERNAME;
    eventually("the first check", || async {
        let html = app.settings_html(&bridge.client_id).await;
        (bot_field(&html, username, "webhook").is_some_and(|w| w.starts_with("working")))
            .then_some(())
    })
    .await;
    app.max.revoke(crate::fake_max::TOKEN);
    let sent = eventually("a notification", || async {
        let sent = app.crm.notifications();
        (!sent.is_empty()).then_some(sent)
    })
    .await;
    assert_eq!(
        sent[0]["message"],
        format!(
            "Acme Messenger: MAX больше не принимает токен бота @{username}: добавьте бота заново \
             с новым токеном с business.max.ru. Настройки: {PUBLIC_URL}/settings/{}",
            bridge.client_id
        )
    );
}

/// Telling the CRM, failing to and trying again logs neither the API key nor the clientId of
/// the settings link, nor the bot's token (everything at TRACE, as log_secrets.rs does).
#[tokio::test]
async fn notifying_logs_no_secret() {
    let logs = crate::helpers::capture_logs_and_spans();
    let app = spawn_app_with(Db::Sqlite, fast_health).await;
    app.crm.set(|s| s.refuse_notifications = 1);
    let bridge = app.connect_with_bot().await;
    app.telegram.revoke(TOKEN);
    eventually("the notification taken on the second try", || async {
        (app.crm.notifications().len() == 1).then_some(())
    })
    .await;
    let text = logs.text();
    for expected in [
        "a failure state opened",
        "telling the CRM's administrators failed",
        "the CRM's administrators were told",
    ] {
        assert!(text.contains(expected), "{expected:?} not captured");
    }
    for (name, secret) in [
        ("the API key", crate::fake_crm::API_KEY),
        ("the clientId", bridge.client_id.as_str()),
        ("the bot token", TOKEN.split_once(':').unwrap().1),
    ] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(
            leaks.is_empty(),
            "{name} in the logs:\n{}",
            leaks.join("\n")
        );
    }
}

/// Two replicas on one Postgres both check the bot and both see the state: one of them tells
/// the CRM (the claim on `alert_state`), once.
#[tokio::test]
async fn two_replicas_tell_the_crm_once() {
    let app = spawn_app_with(Db::Postgres, fast_health).await;
    let bridge = app.connect_with_bot().await;
    let mut settings = crate::helpers::test_settings(&app.database.url, Db::Postgres);
    fast_health(&mut settings);
    settings.telegram.api_url = app.telegram.api_url();
    let replica = mgbridge::app::Application::build(settings).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let replica = tokio::spawn(replica.run_until_stopped(async {
        let _ = stopped.await;
    }));
    app.telegram.revoke(TOKEN);
    eventually("a notification", || async {
        (!app.crm.notifications().is_empty()).then_some(())
    })
    .await;
    // Both replicas check: twice as many calls as ticks of one.
    more_checks(&app, 2 * RETRY_CHECKS).await;
    assert_eq!(app.crm.notifications().len(), 1);
    let html = app.settings_html(&bridge.client_id).await;
    assert_eq!(bot_problems(&html, BOT_USERNAME), [REVOKED]);
    let _ = stop.send(());
    replica.await.unwrap().unwrap();
}

/// What keeps replicas from telling the CRM twice, without their timing: two readers of the
/// same due notification, one claim wins.
async fn a_notification_is_claimed_by_one_reader(db: Db) {
    let app = crate::helpers::spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    let account = app
        .store
        .find_account_by_client_id(&mgbridge::domain::ClientId::parse(&client_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let now = mgbridge::store::now_ms();
    assert!(app
        .store
        .open_alert(&account.id, "token_revoked", "bot", now)
        .await
        .unwrap());
    assert!(!app
        .store
        .open_alert(&account.id, "token_revoked", "bot", now + 1)
        .await
        .unwrap());
    let first = app.store.due_notifications(now, 10).await.unwrap();
    let second = app.store.due_notifications(now, 10).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 1);
    assert!(app
        .store
        .claim_notification(&first[0], now + 60_000)
        .await
        .unwrap());
    assert!(!app
        .store
        .claim_notification(&second[0], now + 60_000)
        .await
        .unwrap());
    // Told: no longer due, even once the retry time has come.
    app.store.mark_notified(&first[0], now).await.unwrap();
    assert!(app
        .store
        .due_notifications(now + 120_000, 10)
        .await
        .unwrap()
        .is_empty());
}
