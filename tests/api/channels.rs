//! Telegram bots as MessageGateway channels (integration guide steps 8–10), through the
//! settings page, against the fake CRM, the fake MG and the fake Bot API.

use axum::http::Method;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

use crate::fake_crm::MG_TOKEN;
use crate::fake_telegram::{Failure, BOT_ID, BOT_USERNAME, OTHER_TOKEN, TOKEN};
use crate::helpers::{spawn_app, spawn_app_with, text_of, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    the_reconcile_reads_enabled_accounts_with_bots_a_page_at_a_time,
    adding_a_bot_sets_its_webhook_registers_the_channel_and_returns_to_the_crm,
    adding_the_same_bot_again_updates_it_without_a_duplicate,
    removing_a_bot_deactivates_its_channel_and_webhook,
    every_failure_to_add_a_bot_is_explained_and_undone,
    a_bot_serves_one_account_at_a_time,
    a_switched_off_account_cannot_add_bots,
    a_refused_mg_token_is_recovered_from_the_crm,
    an_unrecoverable_mg_token_asks_for_a_reconnect,
    reactivation_updates_stale_channel_settings_in_mg,
    bot_forms_are_csrf_protected,
);

/// The settings the channel declares, as MG receives them.
fn declared_settings() -> Value {
    serde_json::to_value(
        mgbridge::messenger::telegram::channel_settings::telegram_channel_settings(),
    )
    .unwrap()
}

/// Connects the fake CRM and adds the fake bot; returns (clientId, our channel id).
async fn connected_with_bot(app: &TestApp) -> (String, String) {
    let client_id = app.connect_fake_crm().await;
    let page = app.add_bot(&client_id, TOKEN).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    let channel_id: String = sqlx::query_scalar("SELECT channel_id FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    (client_id, channel_id)
}

async fn add_bot_shown(app: &TestApp, client_id: &str) -> Vec<(String, String, String)> {
    // (username, MG channel id, status) of each row of the bots table.
    let html = app.settings_html(client_id).await;
    let doc = scraper::Html::parse_document(&html);
    let row = scraper::Selector::parse("tr.bot").unwrap();
    let cell = |r: scraper::ElementRef, css: &str| {
        r.select(&scraper::Selector::parse(css).unwrap())
            .next()
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .unwrap_or_default()
    };
    doc.select(&row)
        .map(|r| {
            (
                r.value().attr("data-username").unwrap().to_owned(),
                cell(r, ".mg-channel"),
                cell(r, ".bot-status"),
            )
        })
        .collect()
}

async fn channel_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn adding_a_bot_sets_its_webhook_registers_the_channel_and_returns_to_the_crm(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;

    let page = app.add_bot(&client_id, TOKEN).await;

    // Step 10: back to the merchant's CRM.
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(page.location.as_deref(), Some(app.crm.url.as_str()));

    // Telegram: the token checked, then the webhook set, with a random key and secret.
    let methods: Vec<String> = app
        .telegram
        .calls()
        .iter()
        .map(|c| c.method.clone())
        .collect();
    assert_eq!(methods, ["getMe", "setWebhook"]);
    let params = app.telegram.last_call_to("setWebhook").unwrap().params;
    let url = params["url"].as_str().unwrap();
    let key = url
        .strip_prefix(&format!("{PUBLIC_URL}/telegram/"))
        .unwrap_or_else(|| panic!("webhook URL {url}"));
    assert_eq!(key.len(), 32, "{key}");
    assert!(
        !url.contains(TOKEN) && !url.contains(&BOT_ID.to_string()),
        "{url}"
    );
    let secret = params["secret_token"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        params,
        json!({"url": url, "secret_token": secret, "allowed_updates": ["message", "edited_message",
            "message_reaction", "my_chat_member", "business_connection", "business_message",
            "edited_business_message", "deleted_business_messages"]})
    );

    // MG: exactly one channel activation, with our settings, under the account's token.
    let posts = app.mg.requests_to(&Method::POST, "/channels");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body.clone().unwrap(),
        json!({
            "type": "telegram",
            "name": format!("@{BOT_USERNAME}"),
            "external_id": BOT_ID.to_string(),
            "settings": declared_settings(),
        })
    );
    assert_eq!(app.mg.requests_of(MG_TOKEN).len(), app.mg.requests().len());
    let channel = &app.mg.channels()[0];
    assert!(channel.is_active);

    // Stored, secrets sealed; listed on the settings page.
    let row = sqlx::query("SELECT * FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let token_enc: String = row.get("bot_token_enc");
    let secret_enc: String = row.get("webhook_secret_enc");
    assert!(token_enc.starts_with("v1:") && !token_enc.contains(TOKEN));
    assert!(secret_enc.starts_with("v1:") && !secret_enc.contains(secret));
    assert_eq!(row.get::<i64, _>("mg_channel_id"), channel.id);
    assert_eq!(
        add_bot_shown(&app, &client_id).await,
        [(
            BOT_USERNAME.to_owned(),
            channel.id.to_string(),
            "Active".to_owned()
        )]
    );
}

async fn adding_the_same_bot_again_updates_it_without_a_duplicate(db: Db) {
    let app = spawn_app(db).await;
    let (client_id, _) = connected_with_bot(&app).await;
    let first_webhook = app.telegram.webhook_of(TOKEN).unwrap();

    let page = app.add_bot(&client_id, &format!("  {TOKEN}  ")).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(channel_rows(&app).await, 1);
    assert_eq!(app.mg.channels().len(), 1, "no second MG channel");
    let posts = app.mg.requests_to(&Method::POST, "/channels");
    assert_eq!(
        posts[1].body.as_ref().unwrap()["id"],
        app.mg.channels()[0].id
    );
    // The webhook address and secret stay the same: Telegram keeps delivering to it.
    assert_eq!(app.telegram.webhook_of(TOKEN).unwrap(), first_webhook);
}

async fn removing_a_bot_deactivates_its_channel_and_webhook(db: Db) {
    let app = spawn_app(db).await;
    let (client_id, channel_id) = connected_with_bot(&app).await;
    let mg_id = app.mg.channels()[0].id;

    let page = app.remove_bot(&client_id, &channel_id).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(page.location.unwrap(), format!("/settings/{client_id}"));
    assert_eq!(
        app.mg
            .requests_to(&Method::DELETE, &format!("/channels/{mg_id}"))
            .len(),
        1
    );
    assert!(!app.mg.channels()[0].is_active);
    assert_eq!(app.telegram.calls_to("deleteWebhook").len(), 1);
    assert!(app.telegram.webhook_of(TOKEN).is_none());
    assert_eq!(
        add_bot_shown(&app, &client_id).await,
        [(
            BOT_USERNAME.to_owned(),
            mg_id.to_string(),
            "Removed".to_owned()
        )]
    );

    // Adding it back re-activates the same MG channel.
    let page = app.add_bot(&client_id, TOKEN).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(app.mg.channels().len(), 1);
    assert!(app.mg.channels()[0].is_active);
    assert_eq!(channel_rows(&app).await, 1);
    assert_eq!(add_bot_shown(&app, &client_id).await[0].2, "Active");
}

async fn every_failure_to_add_a_bot_is_explained_and_undone(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;

    struct Case {
        name: &'static str,
        token: &'static str,
        arrange: fn(&TestApp),
        status: StatusCode,
        message: &'static str,
    }
    let cases = [
        Case {
            name: "malformed token",
            token: "hello",
            arrange: |_| {},
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "@BotFather",
        },
        Case {
            name: "Telegram rejects the token",
            token: OTHER_TOKEN,
            arrange: |_| {},
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "Telegram does not accept this token",
        },
        Case {
            name: "Telegram down",
            token: TOKEN,
            arrange: |app| app.telegram.fail("getMe", Failure::Down),
            status: StatusCode::BAD_GATEWAY,
            message: "Telegram",
        },
        Case {
            name: "webhook refused",
            token: TOKEN,
            arrange: |app| {
                app.telegram.fail(
                    "setWebhook",
                    Failure::api(
                        400,
                        "Bad Request: bad webhook: IP address 10.0.0.1 is reserved",
                    ),
                )
            },
            status: StatusCode::BAD_GATEWAY,
            message: "bad webhook",
        },
        Case {
            name: "MG refuses",
            token: TOKEN,
            arrange: |app| {
                app.mg.fail_next_with(
                    1,
                    400,
                    r#"{"errors":["Channel type is not allowed"]}"#,
                    None,
                )
            },
            status: StatusCode::BAD_GATEWAY,
            message: "The chat gateway refused the channel: Channel type is not allowed.",
        },
        Case {
            name: "MG down",
            token: TOKEN,
            arrange: |app| app.mg.fail_next(1, 503),
            status: StatusCode::BAD_GATEWAY,
            message: "The chat gateway could not be reached",
        },
    ];
    for case in cases {
        app.telegram.clear_failures();
        (case.arrange)(&app);
        let page = app.add_bot(&client_id, case.token).await;
        page.assert_refused(case.status, case.message, case.name);
        assert!(
            !page.body.contains(TOKEN),
            "{}: the token is never echoed",
            case.name
        );
        assert_eq!(channel_rows(&app).await, 0, "{}: nothing stored", case.name);
        assert!(
            app.mg.channels().iter().all(|c| !c.is_active),
            "{}: no live MG channel",
            case.name
        );
        assert!(
            app.telegram.webhook_of(TOKEN).is_none(),
            "{}: no webhook left behind",
            case.name
        );
    }
    // Where MG failed after the webhook was set, the webhook was removed again.
    assert_eq!(app.telegram.calls_to("deleteWebhook").len(), 2);
}

async fn a_bot_serves_one_account_at_a_time(db: Db) {
    let app = spawn_app(db).await;
    connected_with_bot(&app).await;
    // A second CRM account on the same deployment.
    let other = crate::fake_crm::FakeCrm::start().await;
    other.set(|s| {
        s.mg_endpoint = app.mg.url.clone();
        s.mg_token = "second-account-token".into();
    });
    let page = app.connect(&other.url, crate::fake_crm::API_KEY).await;
    let other_client = page
        .location
        .unwrap()
        .trim_start_matches("/settings/")
        .to_owned();

    let page = app.add_bot(&other_client, TOKEN).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.error_text().contains(&format!(
        "@{BOT_USERNAME} is already connected to another CRM account"
    )));
    assert_eq!(channel_rows(&app).await, 1);
    assert_eq!(
        app.telegram.calls_to("setWebhook").len(),
        1,
        "the first account keeps its webhook"
    );
}

async fn a_switched_off_account_cannot_add_bots(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    app.post_activity(&[
        ("clientId", &client_id),
        ("activity", r#"{"active":true,"freeze":true}"#),
    ])
    .await;

    let page = app.add_bot(&client_id, TOKEN).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.error_text().contains("switched off or frozen"),
        "{}",
        page.error_text()
    );
    assert!(app.telegram.calls().is_empty());
    assert!(app.mg.requests().is_empty());
}

async fn a_refused_mg_token_is_recovered_from_the_crm(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    // MG revoked the token; the CRM now has a new one.
    app.mg.refuse_token(MG_TOKEN);
    app.crm.set(|s| s.mg_token = "fresh-token".into());

    let page = app.add_bot(&client_id, TOKEN).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(app.crm.requests_to("/integration-modules/mg-acme").len(), 1);
    let activations = |token: &str| {
        app.mg
            .requests_of(token)
            .into_iter()
            .filter(|r| r.method == Method::POST && r.path == "/channels")
            .count()
    };
    assert_eq!(activations(MG_TOKEN), 1, "one refused call");
    assert_eq!(activations("fresh-token"), 1, "the retry");
    assert_eq!(app.mg.channels_of("fresh-token").len(), 1);
    let account = app
        .store
        .find_account_by_client_id(&mgbridge::domain::ClientId::parse(&client_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.mg_token.expose(), "fresh-token");
    assert!(!account.needs_reconnect);
}

async fn an_unrecoverable_mg_token_asks_for_a_reconnect(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    app.mg.refuse_token(MG_TOKEN); // and the CRM still hands out the same one

    let page = app.add_bot(&client_id, TOKEN).await;

    assert_eq!(page.status, StatusCode::BAD_GATEWAY);
    assert!(
        page.error_text().contains("Connect the CRM again"),
        "{}",
        page.error_text()
    );
    assert!(
        text_of(&page.body, "reconnect").is_some(),
        "the page shows the reconnect banner"
    );
    assert!(
        app.telegram.webhook_of(TOKEN).is_none(),
        "the webhook was removed again"
    );
    assert_eq!(channel_rows(&app).await, 0);
    // Reconnecting (the CRM now issues a working token) clears the state.
    app.crm.set(|s| s.mg_token = "after-reconnect".into());
    app.connect_fake_crm().await;
    let html = app.settings_html(&client_id).await;
    assert!(text_of(&html, "reconnect").is_none());
    assert_eq!(
        app.add_bot(&client_id, TOKEN).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn reactivation_updates_stale_channel_settings_in_mg(db: Db) {
    let app = spawn_app(db).await;
    let (client_id, _) = connected_with_bot(&app).await;
    let mg_id = app.mg.channels()[0].id;
    // As if an older build had declared other settings.
    sqlx::query("UPDATE channel SET settings_hash = 'older-build'")
        .execute(app.store.pool())
        .await
        .unwrap();
    // Active channels MG has and we do not know: one settled long ago, one just activated
    // (as by a bot being added on another replica), which must be left alone.
    let stray = app.mg.add_channel(MG_TOKEN, "telegram");
    let fresh = app.mg.add_channel(MG_TOKEN, "telegram");
    app.mg.set(|s| {
        for c in s.channels.iter_mut().filter(|c| c.id == stray) {
            c.activated_at = "2020-01-01T00:00:00.000000Z".into();
        }
    });

    for activity in [
        r#"{"active":false,"freeze":false}"#,
        r#"{"active":true,"freeze":false}"#,
    ] {
        let response = app
            .post_activity(&[("clientId", &client_id), ("activity", activity)])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    // Reconciling runs in the background after the CRM got its answer.
    let put = format!("/channels/{mg_id}");
    let mut updated = Vec::new();
    for _ in 0..100 {
        updated = app.mg.requests_to(&Method::PUT, &put);
        if !updated.is_empty()
            && !app
                .mg
                .requests_to(&Method::DELETE, &format!("/channels/{stray}"))
                .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0].body.as_ref().unwrap()["settings"],
        declared_settings()
    );
    assert!(app
        .mg
        .channels()
        .iter()
        .any(|c| c.id == mg_id && c.is_active));
    assert!(
        app.mg
            .channels()
            .iter()
            .any(|c| c.id == stray && !c.is_active),
        "stray channel deactivated"
    );
    assert!(
        app.mg
            .channels()
            .iter()
            .any(|c| c.id == fresh && c.is_active),
        "a just-activated channel is kept"
    );
    let hash: String = sqlx::query_scalar("SELECT settings_hash FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_ne!(hash, "older-build");
}

async fn bot_forms_are_csrf_protected(db: Db) {
    let app = spawn_app(db).await;
    let (client_id, channel_id) = connected_with_bot(&app).await;
    let before = app.mg.requests().len();
    for path in [
        format!("/settings/{client_id}/bots"),
        format!("/settings/{client_id}/bots/{channel_id}/remove"),
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .form(&[("bot_token", OTHER_TOKEN), ("authenticity_token", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.mg.requests().len(), before);
    assert_eq!(add_bot_shown(&app, &client_id).await[0].2, "Active");
    // Unknown accounts and channels are 404s, even with a valid form token.
    let csrf =
        crate::helpers::input_value(&app.settings_html(&client_id).await, "authenticity_token")
            .unwrap();
    let unknown_channel = uuid::Uuid::new_v4();
    for path in [
        format!("/settings/{}/bots", "0".repeat(64)),
        format!("/settings/{client_id}/bots/{unknown_channel}/remove"),
        format!("/settings/{client_id}/bots/not-a-uuid/remove"),
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .form(&[("bot_token", TOKEN), ("authenticity_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// A service with a bot whose stored channel settings an older build declared.
async fn with_stale_channel_settings() -> TestApp {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    connected_with_bot(&app).await;
    sqlx::query("UPDATE channel SET settings_hash = 'older-build'")
        .execute(app.store.pool())
        .await
        .unwrap();
    app
}

#[tokio::test]
async fn start_up_updates_stale_channel_settings_in_mg() {
    let app = with_stale_channel_settings().await;
    // A second instance on the same database: its start-up reconciles.
    let second = app.second_instance(Db::Sqlite).await;
    let mut puts = 0;
    for _ in 0..100 {
        puts = app
            .mg
            .requests()
            .iter()
            .filter(|r| r.method == Method::PUT)
            .count();
        if puts > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(second);
    assert_eq!(puts, 1);
    // The bot's webhook was set again, asking for this version's update kinds (the business
    // ones among them): bots added before a version get what it carries.
    let webhook_sets = app.telegram.calls_to("setWebhook");
    assert_eq!(
        webhook_sets.len(),
        2,
        "once when added, once at the reconcile"
    );
    let kinds = &webhook_sets[1].params["allowed_updates"];
    assert!(
        kinds
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("business_message")),
        "{kinds}"
    );
}

#[tokio::test]
async fn shutdown_waits_for_a_reconcile_in_flight() {
    let app = with_stale_channel_settings().await;
    // MG is slow: the second instance's start-up reconcile is still talking to it when that
    // instance is told to stop, at once.
    app.mg
        .set(|s| s.delay = std::time::Duration::from_millis(800));
    let second = app.second_instance(Db::Sqlite).await;
    // Told to stop once the reconcile's update has reached MG (whose answer takes 800 ms).
    let mg = app.mg.clone();
    let in_flight = async move {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !mg.requests().iter().any(|r| r.method == Method::PUT) {
            assert!(
                std::time::Instant::now() < deadline,
                "no reconcile reached MG"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    second.run_until_stopped(in_flight).await.unwrap();
    // It stopped only after the reconcile had stored what MG took.
    let hash: String = sqlx::query_scalar("SELECT settings_hash FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_ne!(hash, "older-build");
}

/// The start-up reconcile's pages: every enabled account that has a bot, once, in id order,
/// and none that is switched off or has no bot.
async fn the_reconcile_reads_enabled_accounts_with_bots_a_page_at_a_time(db: Db) {
    use mgbridge::domain::{Activity, ApiKey, ClientId, CrmUrl, MessengerKind, MgToken};
    use mgbridge::store::{ConnectedAccount, NewChannel};

    let app = spawn_app_with(db, |_| {}).await;
    let mut expected = Vec::new();
    for n in 0..5 {
        let client_id = ClientId::generate();
        let account = app
            .store
            .save_connected_account(&ConnectedAccount {
                client_id: &client_id,
                crm_url: &CrmUrl::from_trusted(format!("https://shop-{n}.retailcrm.ru")),
                api_key: &ApiKey::parse("key").unwrap(),
                mg_endpoint_url: "https://mg.example.com",
                mg_token: &MgToken::new(format!("token-{n}")),
                language: Default::default(),
            })
            .await
            .unwrap();
        // Account 1 has no bot; account 3 is switched off in the CRM.
        if n != 1 {
            app.store
                .save_channel(&NewChannel {
                    account_id: &account,
                    messenger: MessengerKind::Telegram,
                    bot_id: &format!("{n}"),
                    bot_username: "shop_bot",
                    bot_token: &format!("{n}:token"),
                    webhook_key: &format!("key-{n}"),
                    webhook_secret: "secret",
                    mg_channel_id: n,
                    settings_hash: "hash",
                })
                .await
                .unwrap();
        }
        if n == 3 {
            let off = Activity {
                active: false,
                freeze: false,
            };
            assert!(app
                .store
                .record_activity(&client_id, off, None)
                .await
                .unwrap());
        }
        if n != 1 && n != 3 {
            expected.push(account.as_str().to_owned());
        }
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .store
            .enabled_accounts_with_channels_after(after.as_ref(), 2)
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        seen.extend(page.iter().map(|a| a.id.as_str().to_owned()));
    }
    assert_eq!(seen, expected);
}
