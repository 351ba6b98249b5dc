//! MAX bots, end to end: the settings page adds one (token checked, webhook subscribed, a `max`
//! channel in MG), customers' updates reach MG, operators' messages reach MAX and are acked,
//! edits and deletes go both ways, `bot_stopped` blocks the chat, and removing the bot
//! unsubscribes it. The real service, against the fake MAX Bot API and the fake MG.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fake_max::{self, updates, Failure};
use crate::helpers::{spawn_app, wait_for, Bridge, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    a_merchant_adds_a_max_bot_from_the_settings_page,
    a_token_max_refuses_is_shown_and_nothing_is_kept,
    a_customers_message_reaches_mg_on_the_max_channel,
    a_wrong_secret_is_refused_and_nothing_stored,
    customers_media_and_places_reach_mg,
    an_operators_reply_reaches_max_and_is_acked,
    an_operators_file_is_uploaded_and_attached,
    edits_and_deletes_go_both_ways,
    a_stopped_bot_refuses_operators_at_once_until_started_again,
    removing_the_bot_unsubscribes_it_and_deactivates_the_channel,
);

const CUSTOMER: i64 = 40_100_200;
const DIALOG: i64 = -71_000_000_123;

async fn max_bridge(db: Db) -> (TestApp, Bridge) {
    let app = spawn_app(db).await;
    let bridge = app.connect_with_max_bot().await;
    (app, bridge)
}

fn created(mid: &str, text: Option<&str>) -> Value {
    updates::message_created(CUSTOMER, "Ann", Some("ann_k"), DIALOG, mid, text)
}

async fn deliver(app: &TestApp, bridge: &Bridge, update: &Value) {
    let answer = app.post_max_update(bridge, update).await;
    assert_eq!(answer.status(), StatusCode::OK, "{update}");
}

/// The MG messages of the MAX dialog, waiting until there are `n`.
async fn mg_messages(app: &TestApp, n: usize) -> Vec<Value> {
    wait_for(&format!("{n} messages at MG"), || {
        let sent: Vec<Value> = app
            .mg
            .requests_to(&Method::POST, "/messages")
            .into_iter()
            .filter(|r| r.status == 200)
            .filter_map(|r| r.body)
            .collect();
        (sent.len() >= n).then_some(sent)
    })
    .await
}

fn operator_message(bridge: &Bridge, id: i64, data: Value) -> Value {
    let mut full = json!({
        "id": id, "type": "text", "channel_id": bridge.mg_channel_id,
        "external_chat_id": DIALOG.to_string(), "external_user_id": CUSTOMER.to_string(),
    });
    full.as_object_mut()
        .unwrap()
        .extend(data.as_object().unwrap().clone());
    json!({"type": "message_sent", "meta": {"timestamp": 1_790_000_000}, "data": full})
}

async fn post_mg(app: &TestApp, bridge: &Bridge, webhook: &Value) {
    let answer = app.post_mg_webhook(&bridge.client_id, webhook).await;
    assert_eq!(answer.status(), StatusCode::OK, "{webhook}");
}

async fn ack_of(app: &TestApp, id: i64) -> Value {
    wait_for(&format!("the ack of message {id}"), || {
        app.mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .filter_map(|r| r.body)
            .find(|b| b["message"]["id"] == json!(id))
    })
    .await
}

async fn a_merchant_adds_a_max_bot_from_the_settings_page(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    let html = app.settings_html(&client_id).await;
    assert!(
        html.contains(r#"name="max_token""#),
        "the page has a MAX form"
    );

    let page = app.add_max_bot(&client_id, fake_max::TOKEN).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(page.location.as_deref(), Some(app.crm.url.as_str()));

    // 1. The token was checked, in the header.
    let me = app.max.last_call_to("GET /me").expect("GET /me");
    assert_eq!(me.token.as_deref(), Some(fake_max::TOKEN));
    assert_eq!(me.auth, fake_max::AuthVia::Header);
    // 2. The webhook: a random path under the public URL, a secret MAX takes, our kinds.
    let subscription = app.max.subscriptions_of(fake_max::TOKEN).pop().unwrap();
    assert!(
        subscription.url.starts_with(&format!("{PUBLIC_URL}/max/")),
        "{subscription:?}"
    );
    let secret = subscription.secret.clone().unwrap();
    assert!((5..=256).contains(&secret.len()));
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    let kinds = subscription.update_types.clone().unwrap();
    for kind in [
        "message_created",
        "message_edited",
        "message_removed",
        "bot_started",
        "bot_stopped",
    ] {
        assert!(kinds.contains(&kind.to_owned()), "{kinds:?}");
    }
    // 3. A `max` channel in MG, declaring what the bridge does for MAX.
    let channel = app.mg.channels().pop().unwrap();
    assert_eq!(channel.r#type, "max");
    assert!(channel.is_active);
    assert_eq!(channel.name.as_deref(), Some("@acme_shop_max_bot"));
    assert_eq!(channel.external_id, Some(fake_max::BOT_ID.to_string()));
    assert_eq!(channel.settings["text"]["max_chars_count"], json!(4000));
    assert_eq!(channel.settings["text"]["reaction"], json!("none"));
    // 4. Kept with its token and secret sealed, and listed.
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT messenger, bot_token_enc, webhook_secret_enc FROM channel")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "max");
    assert!(
        !stored[0].1.contains(fake_max::TOKEN),
        "the token is sealed"
    );
    let html = app.settings_html(&client_id).await;
    assert!(html.contains(r#"data-messenger="MAX""#), "{html}");
    assert!(html.contains("@acme_shop_max_bot"));
}

async fn a_token_max_refuses_is_shown_and_nothing_is_kept(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    let page = app.add_max_bot(&client_id, fake_max::OTHER_TOKEN).await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "MAX does not accept this token",
        "an unknown token",
    );
    let page = app.add_max_bot(&client_id, "two words").await;
    assert_ne!(page.status, StatusCode::SEE_OTHER);
    assert!(page.error_text().contains("MAX token"), "{page:?}");
    // MG refuses the channel: the subscription made for it is taken back.
    app.mg.fail_next_with(
        1,
        400,
        r#"{"errors":["Channel type is not allowed"]}"#,
        None,
    );
    let page = app.add_max_bot(&client_id, fake_max::TOKEN).await;
    assert_ne!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(app.max.subscriptions_of(fake_max::TOKEN).is_empty());
    assert!(app.mg.channels().iter().all(|c| !c.is_active));
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

async fn a_customers_message_reaches_mg_on_the_max_channel(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    let update = updates::with_reply(
        created("mid.a2", Some("Is <b> & \"it\" here?")),
        "mid.a1",
        Some("earlier"),
    );
    deliver(&app, &bridge, &update).await;
    // MAX repeats a delivery it thinks failed: the repeat is dropped.
    deliver(&app, &bridge, &update).await;
    let sent = mg_messages(&app, 1).await;
    let body = &sent[0];
    assert_eq!(body["channel"], json!(bridge.mg_channel_id));
    assert_eq!(body["external_chat_id"], json!(DIALOG.to_string()));
    assert_eq!(body["message"]["external_id"], json!("mid.a2"));
    assert_eq!(body["message"]["text"], json!("Is <b> & \"it\" here?"));
    assert_eq!(body["customer"]["external_id"], json!(CUSTOMER.to_string()));
    assert_eq!(body["customer"]["nickname"], json!("ann_k"));
    assert_eq!(body["customer"]["first_name"], json!("Ann"));
    let avatar = body["customer"]["avatar"].as_str().unwrap();
    assert!(
        avatar.starts_with(&format!("{PUBLIC_URL}/avatar/")),
        "{avatar}"
    );
    assert!(!avatar.contains(fake_max::TOKEN));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mg_messages(&app, 1).await.len(),
        1,
        "the repeat was dropped"
    );
    // The reply became a quote; MG did not know the quoted message, so it went without.
    let quoted: Vec<Value> = app
        .mg
        .requests_to(&Method::POST, "/messages")
        .into_iter()
        .filter_map(|r| r.body)
        .collect();
    assert_eq!(quoted[0]["quote"]["external_id"], json!("mid.a1"));
}

async fn a_wrong_secret_is_refused_and_nothing_stored(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    let wrong = Bridge {
        webhook_secret: "not-the-secret".into(),
        ..bridge.clone()
    };
    let answer = app
        .post_max_update(&wrong, &created("mid.x", Some("hi")))
        .await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    // The Telegram route does not take a MAX channel's key.
    let answer = app
        .client
        .post(format!(
            "{}{}",
            app.address,
            bridge.webhook_path.replace("/max/", "/telegram/")
        ))
        .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret)
        .json(&created("mid.y", Some("hi")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let answer = app
        .client
        .post(format!("{}{}", app.address, bridge.webhook_path))
        .header("X-Max-Bot-Api-Secret", &bridge.webhook_secret)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(jobs, 0);
}

async fn customers_media_and_places_reach_mg(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    let photo = app.max.put_file(b"\x89PNG photo".to_vec());
    let doc = app.max.put_file(b"%PDF-1.7".to_vec());
    let update = updates::with_attachment(
        updates::with_attachment(
            created("mid.m1", Some("see these")),
            updates::image(&photo, "t1", 1),
        ),
        updates::file(&doc, "t2", "invoice.pdf", 8),
    );
    deliver(&app, &bridge, &update).await;
    let place = updates::with_attachment(created("mid.m2", None), updates::location(55.75, 37.61));
    deliver(&app, &bridge, &place).await;
    let contact = updates::with_attachment(
        created("mid.m3", None),
        updates::contact("Bob", "+7 900 111-22-33", None),
    );
    deliver(&app, &bridge, &contact).await;

    let sent = mg_messages(&app, 4).await;
    // The photo and the document are fetched by MG from MAX's URLs.
    let by_url: Vec<String> = app
        .mg
        .requests_to(&Method::POST, "/files/upload_by_url")
        .into_iter()
        .filter_map(|r| r.body)
        .map(|b| b["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(by_url, [photo.clone(), doc.clone()]);
    assert_eq!(sent[0]["message"]["type"], json!("image"));
    assert_eq!(sent[0]["message"]["external_id"], json!("mid.m1"));
    assert_eq!(sent[0]["message"]["note"], json!("see these"));
    assert_eq!(sent[1]["message"]["type"], json!("file"));
    assert_eq!(sent[1]["message"]["external_id"], json!("mid.m1#1"));
    assert_eq!(
        sent[1]["message"]["items"][0]["caption"],
        json!("invoice.pdf")
    );
    let place = sent[2]["message"]["text"].as_str().unwrap();
    assert!(
        place.contains("55.75") && place.contains("37.61"),
        "{place}"
    );
    let contact = sent[3]["message"]["text"].as_str().unwrap();
    assert!(contact.contains("+7 900 111-22-33"), "{contact}");
}

async fn an_operators_reply_reaches_max_and_is_acked(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    deliver(&app, &bridge, &created("mid.c1", Some("hello"))).await;
    mg_messages(&app, 1).await;
    app.max.know_message("mid.c1");
    let webhook = operator_message(
        &bridge,
        501,
        json!({
            "content": "Yes <we> & \"you\"",
            "quote_external_id": "mid.c1",
            "attachments": {"suggestions": [
                {"type": "text", "title": "Thanks"},
                {"type": "url", "title": "Track", "payload": "https://track.example/1"}
            ]}
        }),
    );
    post_mg(&app, &bridge, &webhook).await;
    let ack = ack_of(&app, 501).await;
    assert!(ack.get("error").is_none(), "{ack}");
    let sent = app.max.messages();
    assert_eq!(sent.len(), 1);
    let message = &sent[0];
    assert_eq!(ack["transport_message_id"], json!(message.mid));
    assert_eq!(message.chat_id, Some(DIALOG));
    assert_eq!(message.format.as_deref(), Some("html"));
    assert_eq!(
        message.text.as_deref(),
        Some("Yes &lt;we&gt; &amp; \"you\"")
    );
    assert_eq!(
        message.link,
        Some(json!({"type": "reply", "mid": "mid.c1"}))
    );
    assert_eq!(
        message.attachments,
        [json!({"type": "inline_keyboard", "payload": {"buttons": [
            [{"type": "message", "text": "Thanks"}],
            [{"type": "link", "text": "Track", "url": "https://track.example/1"}]
        ]}})]
    );
    // A text past MAX's 4,000 characters goes in two messages, the id being the first's.
    let long = "word ".repeat(1_000);
    post_mg(
        &app,
        &bridge,
        &operator_message(&bridge, 502, json!({"content": long})),
    )
    .await;
    let ack = ack_of(&app, 502).await;
    let sent = app.max.messages();
    assert_eq!(sent.len(), 3, "two more messages");
    assert_eq!(ack["transport_message_id"], json!(sent[1].mid));
    assert!(sent[1..]
        .iter()
        .all(|m| m.text.as_ref().unwrap().chars().count() <= 4000));
    // MAX refusing (5xx) is retried; 429 too.
    app.max
        .fail_times("POST /messages", Failure::api(503, "", "unavailable"), 2);
    post_mg(
        &app,
        &bridge,
        &operator_message(&bridge, 503, json!({"content": "again"})),
    )
    .await;
    let ack = ack_of(&app, 503).await;
    assert!(ack.get("error").is_none(), "{ack}");
    assert_eq!(app.max.messages().len(), 4, "sent once, after the retries");
}

async fn an_operators_file_is_uploaded_and_attached(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    let file = app
        .mg
        .add_file("application/pdf", b"%PDF-1.7 invoice".to_vec());
    // The first send finds the upload still being processed: it is tried again shortly.
    app.max.not_ready_times(1);
    let webhook = operator_message(
        &bridge,
        601,
        json!({"type": "file", "content": "your invoice",
               "items": [{"id": file, "size": 16, "caption": "invoice.pdf"}]}),
    );
    post_mg(&app, &bridge, &webhook).await;
    let ack = ack_of(&app, 601).await;
    assert!(ack.get("error").is_none(), "{ack}");
    let uploads = app.max.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].upload_type, "file");
    assert_eq!(uploads[0].bytes, b"%PDF-1.7 invoice");
    assert_eq!(uploads[0].file_name.as_deref(), Some("invoice.pdf"));
    assert_eq!(uploads[0].content_type.as_deref(), Some("application/pdf"));
    let sent = app.max.messages();
    assert_eq!(sent.len(), 1, "one message, sent once");
    assert_eq!(sent[0].text.as_deref(), Some("your invoice"));
    assert_eq!(
        sent[0].attachments,
        [json!({"type": "file", "payload": {"token": uploads[0].attachment_token}})]
    );
    assert_eq!(
        app.max.calls_to("POST /messages").len(),
        2,
        "one not ready, one sent"
    );
}

async fn edits_and_deletes_go_both_ways(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    deliver(&app, &bridge, &created("mid.e1", Some("red one"))).await;
    mg_messages(&app, 1).await;
    let edited = updates::message_edited(
        CUSTOMER,
        "Ann",
        Some("ann_k"),
        DIALOG,
        "mid.e1",
        Some("blue one"),
    );
    deliver(&app, &bridge, &edited).await;
    let edit = wait_for("the edit at MG", || {
        app.mg
            .requests_to(&Method::PUT, "/messages")
            .into_iter()
            .find_map(|r| r.body)
    })
    .await;
    assert_eq!(edit["message"]["external_id"], json!("mid.e1"));
    assert_eq!(edit["message"]["text"], json!("blue one"));
    deliver(
        &app,
        &bridge,
        &updates::message_removed("mid.e1", DIALOG, CUSTOMER),
    )
    .await;
    let removed = wait_for("the delete at MG", || {
        app.mg
            .requests_to(&Method::DELETE, "/messages")
            .into_iter()
            .find_map(|r| r.body)
    })
    .await;
    assert_eq!(removed["message"]["external_id"], json!("mid.e1"));

    // The operator's side.
    post_mg(
        &app,
        &bridge,
        &operator_message(&bridge, 701, json!({"content": "typo"})),
    )
    .await;
    let mid = ack_of(&app, 701).await["transport_message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = |kind: &str, data: Value| {
        let mut full = json!({"channel_id": bridge.mg_channel_id, "external_chat_id": DIALOG.to_string(),
                              "external_user_id": CUSTOMER.to_string(), "external_message_id": mid});
        full.as_object_mut()
            .unwrap()
            .extend(data.as_object().unwrap().clone());
        json!({"type": kind, "meta": {"timestamp": 1_790_000_001}, "data": full})
    };
    post_mg(
        &app,
        &bridge,
        &change(
            "message_updated",
            json!({"id": 701, "type": "text", "content": "fixed"}),
        ),
    )
    .await;
    wait_for("the edit at MAX", || {
        app.max.message(&mid).filter(|m| m.edited).map(|_| ())
    })
    .await;
    assert_eq!(
        app.max.message(&mid).unwrap().text.as_deref(),
        Some("fixed")
    );
    post_mg(
        &app,
        &bridge,
        &change("message_deleted", json!({"id": 701})),
    )
    .await;
    wait_for("the delete at MAX", || {
        app.max.message(&mid).filter(|m| m.deleted).map(|_| ())
    })
    .await;
}

async fn a_stopped_bot_refuses_operators_at_once_until_started_again(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    let ann = updates::user(CUSTOMER, "Ann", Some("ann_k"));
    deliver(&app, &bridge, &created("mid.s1", Some("hi"))).await;
    deliver(&app, &bridge, &updates::bot_stopped(DIALOG, ann.clone())).await;
    // The stop is delivered in the chat's order, after the message.
    mg_messages(&app, 1).await;
    app.wait_for_jobs("done", 2).await;
    let calls_before = app.max.calls_to("POST /messages").len();
    post_mg(
        &app,
        &bridge,
        &operator_message(&bridge, 801, json!({"content": "still there?"})),
    )
    .await;
    let ack = ack_of(&app, 801).await;
    assert_eq!(ack["error"]["code"], json!("access_restricted"), "{ack}");
    assert_eq!(
        app.max.calls_to("POST /messages").len(),
        calls_before,
        "no call to MAX for a stopped bot"
    );
    // The customer starts the bot again from a deep link: MG gets /start with its payload.
    deliver(
        &app,
        &bridge,
        &updates::bot_started(DIALOG, ann, Some("promo-42")),
    )
    .await;
    let sent = mg_messages(&app, 2).await;
    assert_eq!(sent[1]["message"]["text"], json!("/start promo-42"));
    post_mg(
        &app,
        &bridge,
        &operator_message(&bridge, 802, json!({"content": "welcome back"})),
    )
    .await;
    let ack = ack_of(&app, 802).await;
    assert!(ack.get("error").is_none(), "{ack}");
    // MAX's own refusal (403) is reported the same way, without retries.
    app.max.fail(
        "POST /messages",
        Failure::api(403, "chat.denied", "chat.denied: dialog.suspended"),
    );
    post_mg(
        &app,
        &bridge,
        &operator_message(&bridge, 803, json!({"content": "x"})),
    )
    .await;
    let ack = ack_of(&app, 803).await;
    assert_eq!(ack["error"]["code"], json!("access_restricted"), "{ack}");
}

async fn removing_the_bot_unsubscribes_it_and_deactivates_the_channel(db: Db) {
    let (app, bridge) = max_bridge(db).await;
    let channel_id: String = sqlx::query_scalar("SELECT channel_id FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let page = app.remove_bot(&bridge.client_id, &channel_id).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(app.max.subscriptions_of(fake_max::TOKEN).is_empty());
    let channel = app.mg.channels().pop().unwrap();
    assert!(!channel.is_active);
    // Updates still in flight for it are answered and dropped.
    let answer = app
        .post_max_update(&bridge, &created("mid.r1", Some("late")))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
}
