//! MG → Telegram: what an operator does in the CRM's chat becomes on Telegram, through the real
//! service (MG webhook, queue, worker) against the fake MG and the fake Bot API: each kind of
//! message, quotes and quick replies, edits, deletes, reactions, Telegram's refusals, and a
//! redelivery that must not send anything twice.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fake_telegram::{Call, Failure};
use crate::helpers::{spawn_app, spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;
use mgbridge::store::{ChannelId, SentPart};

on_both_databases!(
    text_is_escaped_and_split_at_telegrams_limit,
    one_image_goes_with_its_caption_fetched_without_the_token,
    three_images_are_one_album,
    a_file_keeps_its_name_and_audio_is_a_voice_only_when_ogg,
    product_and_order_cards_are_readable,
    cards_are_labelled_in_the_accounts_language,
    a_quote_becomes_a_reply_and_suggestions_a_keyboard,
    an_edit_changes_the_text_or_the_caption,
    deleting_removes_every_part,
    reactions_are_set_and_cleared,
    refusals_reach_mg_with_its_error_codes,
    flood_control_waits_as_long_as_telegram_asks,
    a_redelivered_message_sends_only_what_is_missing,
);

/// A private chat with a user id beyond 32 bits (its chat id is the user id).
const CHAT: i64 = 7_100_000_077;

/// A webhook of `kind` for the bridge's channel and `CHAT`, with `data` merged over that.
fn webhook(bridge: &Bridge, kind: &str, data: Value) -> Value {
    let mut full = json!({
        "channel_id": bridge.mg_channel_id,
        "external_chat_id": CHAT.to_string(),
        "external_user_id": CHAT.to_string(),
    });
    full.as_object_mut()
        .unwrap()
        .extend(data.as_object().unwrap().clone());
    json!({"type": kind, "meta": {"timestamp": 1_790_000_000}, "data": full})
}

/// An operator's message `id` (a text unless `data` says otherwise).
fn operator_message(bridge: &Bridge, id: i64, data: Value) -> Value {
    let mut with_id = json!({"id": id, "type": "text"});
    with_id
        .as_object_mut()
        .unwrap()
        .extend(data.as_object().unwrap().clone());
    webhook(bridge, "message_sent", with_id)
}

async fn post(app: &TestApp, bridge: &Bridge, webhook: &Value) {
    let answer = app.post_mg_webhook(&bridge.client_id, webhook).await;
    assert_eq!(answer.status(), StatusCode::OK, "{webhook}");
}

/// The ack MG received for its message `id`, waiting for it.
async fn ack_of(app: &TestApp, id: i64) -> Value {
    wait_for(&format!("the ack of message {id}"), || {
        app.mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .filter_map(|r| r.body)
            .find(|body| body["message"]["id"] == json!(id))
    })
    .await
}

/// Posts an operator's message and returns its id for MG, from the successful ack.
async fn deliver(app: &TestApp, bridge: &Bridge, id: i64, data: Value) -> String {
    post(app, bridge, &operator_message(bridge, id, data)).await;
    let ack = ack_of(app, id).await;
    assert_eq!(ack["channel"], json!(bridge.mg_channel_id), "{ack}");
    assert!(ack.get("error").is_none(), "{ack}");
    ack["transport_message_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no transport id in {ack}"))
        .to_owned()
}

/// A parameter as a number, whether sent in JSON or in a multipart form (as text).
pub(crate) fn int(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

/// What Telegram shows of an HTML text: no tags, entities decoded.
fn shown(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn text_of(call: &Call) -> &str {
    call.params["text"].as_str().unwrap()
}

async fn sent_parts(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sent_part")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn channel_id(app: &TestApp) -> ChannelId {
    let id: String = sqlx::query_scalar("SELECT channel_id FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    ChannelId::parse(&id).unwrap()
}

async fn text_is_escaped_and_split_at_telegrams_limit(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let content = format!("Tom & Jerry <3\n{}", "word ".repeat(1000));

    let id = deliver(&app, &bridge, 1, json!({ "content": content })).await;

    let calls = app.telegram.calls_to("sendMessage");
    assert_eq!(calls.len(), 2, "5,015 characters are two messages");
    assert!(
        text_of(&calls[0]).starts_with("Tom &amp; Jerry &lt;3\nword"),
        "{}",
        &text_of(&calls[0])[..40]
    );
    for call in &calls {
        assert_eq!(call.params["parse_mode"], "HTML");
        assert_eq!(int(&call.params["chat_id"]), CHAT);
        assert!(shown(text_of(call)).chars().count() <= 4096);
    }
    let words: usize = calls
        .iter()
        .map(|c| shown(text_of(c)).matches("word").count())
        .sum();
    assert_eq!(words, 1000, "nothing lost at the cut");
    let first = app.telegram.messages_to(CHAT)[0].message_id;
    assert_eq!(id, format!("{CHAT}:{first}"));
    assert_eq!(sent_parts(&app).await, 2);

    // A phone-keyed channel names no chat: the customer's id is the private chat's.
    let mut phone_keyed = operator_message(&bridge, 2, json!({"content": "hello"}));
    phone_keyed["data"]["external_chat_id"] = json!("");
    post(&app, &bridge, &phone_keyed).await;
    assert!(ack_of(&app, 2).await.get("error").is_none());
    assert_eq!(
        text_of(&app.telegram.last_call_to("sendMessage").unwrap()),
        "hello"
    );
    assert_eq!(app.telegram.messages_to(CHAT).len(), 3);
}

async fn one_image_goes_with_its_caption_fetched_without_the_token(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let jpeg = b"\xff\xd8\xff\xe0 a red dress".to_vec();
    let file = app.mg.add_file("image/jpeg", jpeg.clone());

    let id = deliver(
        &app,
        &bridge,
        1,
        json!({"type": "image", "content": "Look <here>", "items": [{"id": file, "size": jpeg.len()}]}),
    )
    .await;

    let call = app.telegram.last_call_to("sendPhoto").unwrap();
    assert_eq!(call.params["caption"], "Look &lt;here&gt;");
    assert_eq!(call.params["parse_mode"], "HTML");
    assert_eq!(int(&call.params["chat_id"]), CHAT);
    assert_eq!(call.files.len(), 1);
    assert_eq!(call.files[0].field, "photo");
    assert_eq!(call.files[0].bytes, jpeg);
    assert_eq!(call.files[0].content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(
        id,
        format!("{CHAT}:{}", app.telegram.messages_to(CHAT)[0].message_id)
    );
    // Described by MG with the token; fetched from its storage without it.
    assert_eq!(
        app.mg
            .requests_to(&Method::GET, &format!("/files/{file}"))
            .len(),
        1
    );
    let downloads = app.mg.downloads();
    assert_eq!(downloads.len(), 1);
    assert_eq!(downloads[0].file_id, file);
    assert!(!downloads[0].had_token);
    assert!(app.telegram.calls_to("sendMessage").is_empty());
}

async fn three_images_are_one_album(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let files: Vec<String> = (1..=3)
        .map(|n| {
            app.mg
                .add_file("image/png", vec![0x89, b'P', b'N', b'G', n])
        })
        .collect();
    let items: Vec<Value> = files.iter().map(|id| json!({ "id": id })).collect();

    let id = deliver(
        &app,
        &bridge,
        1,
        json!({"type": "image", "content": "Pick one", "items": items}),
    )
    .await;

    let calls = app.telegram.calls_to("sendMediaGroup");
    assert_eq!(calls.len(), 1);
    let media = calls[0].params["media"].as_array().unwrap();
    assert_eq!(media.len(), 3);
    assert!(media.iter().all(|m| m["type"] == "photo"));
    assert_eq!(media[0]["caption"], "Pick one");
    assert!(media[1].get("caption").is_none() && media[2].get("caption").is_none());
    assert_eq!(calls[0].files.len(), 3);
    assert_eq!(calls[0].files[2].bytes, [0x89, b'P', b'N', b'G', 3]);
    let messages = app.telegram.messages_to(CHAT);
    assert_eq!(messages.len(), 3);
    assert_eq!(id, format!("{CHAT}:{}", messages[0].message_id));
    assert_eq!(sent_parts(&app).await, 3, "each photo is a part");
    assert!(app.telegram.calls_to("sendPhoto").is_empty());
}

async fn a_file_keeps_its_name_and_audio_is_a_voice_only_when_ogg(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let pdf = app
        .mg
        .add_file("application/pdf", b"%PDF-1.4 price list".to_vec());
    let ogg = app.mg.add_file("audio/ogg", b"OggS voice".to_vec());
    let mp3 = app.mg.add_file("audio/mpeg", b"ID3 track".to_vec());

    deliver(
        &app,
        &bridge,
        1,
        json!({"type": "file", "items": [{"id": pdf, "caption": "Price list.pdf"}]}),
    )
    .await;
    deliver(
        &app,
        &bridge,
        2,
        json!({"type": "audio", "items": [{"id": ogg}]}),
    )
    .await;
    deliver(
        &app,
        &bridge,
        3,
        json!({"type": "audio", "items": [{"id": mp3}]}),
    )
    .await;

    let document = app.telegram.last_call_to("sendDocument").unwrap();
    assert_eq!(
        document.files[0].file_name.as_deref(),
        Some("Price list.pdf")
    );
    assert_eq!(
        document.files[0].content_type.as_deref(),
        Some("application/pdf")
    );
    let voice = app.telegram.calls_to("sendVoice");
    assert_eq!(voice.len(), 1);
    assert_eq!(voice[0].files[0].bytes, b"OggS voice");
    let audio = app.telegram.calls_to("sendAudio");
    assert_eq!(audio.len(), 1);
    assert_eq!(audio[0].files[0].bytes, b"ID3 track");
}

/// The merchant connected from the Spanish page: the account's cards are labelled in Spanish.
async fn cards_are_labelled_in_the_accounts_language(db: Db) {
    let app = spawn_app(db).await;
    // The merchant chose Spanish: the `lang` cookie goes with the connect form.
    assert_eq!(app.get("/?lang=es").await.status(), StatusCode::OK);
    let bridge = app.connect_with_bot().await;

    deliver(
        &app,
        &bridge,
        1,
        json!({"type": "order", "order": {
            "number": "8061C", "status": {"code": "assembling"},
            "cost": {"value": 17400, "currency": "RUB"},
            "delivery": {"name": "Courier", "address": "Main St 1"},
            "payments": [{"name": "Card", "status": {"paid": true}}]
        }}),
    )
    .await;
    let order = app.telegram.last_call_to("sendMessage").unwrap();
    assert_eq!(
        text_of(&order),
        "<b>Pedido 8061C</b>\nEstado: en preparación\nEntrega: Courier\n\
         Dirección: Main St 1\nPago: Card (pagado)\n<b>Total: 17\u{a0}400 ₽</b>"
    );
    deliver(
        &app,
        &bridge,
        2,
        json!({"type": "product", "content": "Red dress", "product":
            {"id": 42, "name": "Red dress", "article": "RD-42"}}),
    )
    .await;
    let product = app.telegram.last_call_to("sendMessage").unwrap();
    assert_eq!(text_of(&product), "<b>Red dress</b>\nReferencia: RD-42");
}

async fn product_and_order_cards_are_readable(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let product = json!({"id": 42, "name": "Red dress", "article": "RD-42",
        "url": "https://shop.example/p/42", "img": "https://shop.example/p/42.jpg",
        "cost": {"value": 8700, "currency": "RUB"}});

    deliver(
        &app,
        &bridge,
        1,
        json!({"type": "product", "content": "Red dress", "product": product}),
    )
    .await;

    let photo = app.telegram.last_call_to("sendPhoto").unwrap();
    assert_eq!(photo.params["photo"], "https://shop.example/p/42.jpg");
    assert_eq!(
        photo.params["caption"],
        "<b>Red dress</b>\n8\u{a0}700 ₽\nArticle: RD-42\n\
         <a href=\"https://shop.example/p/42\">https://shop.example/p/42</a>"
    );

    deliver(
        &app,
        &bridge,
        2,
        json!({"type": "order", "order": {
            "number": "8061C", "status": {"code": "new", "name": "New"},
            "cost": {"value": 17400, "currency": "RUB"},
            "delivery": {"name": "Courier", "address": "Main St 1"},
            "payments": [{"name": "Card", "status": {"name": "Paid", "paid": true}}],
            "items": [{"name": "Red dress", "quantity": {"value": 2}, "price": {"value": 8700, "currency": "RUB"}}]
        }}),
    )
    .await;

    let order = app.telegram.last_call_to("sendMessage").unwrap();
    assert_eq!(
        text_of(&order),
        "<b>Order 8061C</b>\nStatus: New\n1. Red dress — 2 × 8\u{a0}700 ₽\nDelivery: Courier\n\
         Address: Main St 1\nPayment: Card (Paid)\n<b>Total: 17\u{a0}400 ₽</b>"
    );

    // The shop's picture cannot be used: the card still arrives, as text.
    app.telegram.fail_times(
        "sendPhoto",
        Failure::api(400, "Bad Request: wrong file identifier/HTTP URL specified"),
        1,
    );
    deliver(
        &app,
        &bridge,
        3,
        json!({"type": "product", "product": product}),
    )
    .await;
    let text = app.telegram.last_call_to("sendMessage").unwrap();
    assert!(text_of(&text).starts_with("<b>Red dress</b>\n8\u{a0}700 ₽"));
    assert_eq!(app.telegram.messages_to(CHAT).len(), 3);
}

async fn a_quote_becomes_a_reply_and_suggestions_a_keyboard(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.telegram.know_message(CHAT, 42);

    deliver(
        &app,
        &bridge,
        1,
        json!({"content": "Yes, in red!", "quote_external_id": format!("{CHAT}:42"),
               "quote_content": "Is it in red?",
               "attachments": {"suggestions": [
                   {"type": "text", "title": "Order now"},
                   {"type": "url", "title": "Open catalog", "payload": "https://shop.example/red"},
                   {"type": "phone", "title": "Share my phone"}]}}),
    )
    .await;

    let call = app.telegram.last_call_to("sendMessage").unwrap();
    assert_eq!(
        call.params["reply_parameters"],
        json!({"message_id": 42, "allow_sending_without_reply": true})
    );
    assert_eq!(
        call.params["reply_markup"],
        json!({"keyboard": [[{"text": "Order now"}], [{"text": "Open catalog"}],
                            [{"text": "Share my phone", "request_contact": true}]],
               "resize_keyboard": true, "one_time_keyboard": true})
    );
    let sent = &app.telegram.messages_to(CHAT)[0];
    assert_eq!(sent.json["reply_to_message"]["message_id"], 42);

    // Links only: buttons that open them; and a quote of another transport's id is no reply.
    deliver(
        &app,
        &bridge,
        2,
        json!({"content": "Our catalog", "quote_external_id": "m-777",
               "attachments": {"suggestions": [{"type": "url", "title": "Open", "payload": "https://shop.example/"}]}}),
    )
    .await;
    let call = app.telegram.last_call_to("sendMessage").unwrap();
    assert!(call.params.get("reply_parameters").is_none());
    assert_eq!(
        call.params["reply_markup"],
        json!({"inline_keyboard": [[{"text": "Open", "url": "https://shop.example/"}]]})
    );
}

async fn an_edit_changes_the_text_or_the_caption(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let text_id = deliver(&app, &bridge, 1, json!({"content": "We have it in red"})).await;
    let file = app.mg.add_file("image/jpeg", b"\xff\xd8\xff".to_vec());
    let photo_id = deliver(
        &app,
        &bridge,
        2,
        json!({"type": "image", "content": "old caption", "items": [{"id": file}]}),
    )
    .await;
    let message = |n: usize| app.telegram.messages_to(CHAT)[n].clone();

    post(
        &app,
        &bridge,
        &webhook(
            &bridge,
            "message_updated",
            json!({"external_message_id": text_id, "type": "text", "content": "Red & blue"}),
        ),
    )
    .await;
    wait_for("the text edited", || message(0).edited.then_some(())).await;
    assert_eq!(message(0).text.as_deref(), Some("Red &amp; blue"));

    // A media message's caption; and without a `type` the caption is found by trying.
    post(
        &app,
        &bridge,
        &webhook(
            &bridge,
            "message_updated",
            json!({"external_message_id": photo_id, "type": "image", "content": "new <caption>"}),
        ),
    )
    .await;
    wait_for("the caption edited", || message(1).edited.then_some(())).await;
    assert_eq!(message(1).caption.as_deref(), Some("new &lt;caption&gt;"));
    post(
        &app,
        &bridge,
        &webhook(
            &bridge,
            "message_updated",
            json!({"external_message_id": photo_id, "content": "newest"}),
        ),
    )
    .await;
    wait_for("the caption edited again", || {
        (message(1).caption.as_deref() == Some("newest")).then_some(())
    })
    .await;

    // The same text again is not an error.
    post(
        &app,
        &bridge,
        &webhook(
            &bridge,
            "message_updated",
            json!({"external_message_id": text_id, "type": "text", "content": "Red & blue"}),
        ),
    )
    .await;
    app.wait_for_jobs("done", 6).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
    assert_eq!(app.telegram.calls_to("editMessageText").len(), 3);
}

async fn deleting_removes_every_part(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let items: Vec<Value> = (1..=3)
        .map(|n| json!({"id": app.mg.add_file("image/jpeg", vec![0xff, 0xd8, n])}))
        .collect();
    let album_id = deliver(&app, &bridge, 1, json!({"type": "image", "items": items})).await;
    let deleted = webhook(
        &bridge,
        "message_deleted",
        json!({ "external_message_id": album_id }),
    );

    post(&app, &bridge, &deleted).await;

    wait_for("every photo deleted", || {
        app.telegram
            .messages_to(CHAT)
            .iter()
            .all(|m| m.deleted)
            .then_some(())
    })
    .await;
    assert_eq!(app.telegram.calls_to("deleteMessage").len(), 3);
    // Deleting what is already gone is done, not failed.
    post(&app, &bridge, &deleted).await;
    app.wait_for_jobs("done", 3).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

async fn reactions_are_set_and_cleared(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // The customer's message, by the id the inbound side gave it.
    let customers = format!("{CHAT}:42");

    post(
        &app,
        &bridge,
        &webhook(
            &bridge,
            "reaction_add",
            json!({"external_message_id": customers, "new_reaction": "❤️", "all_reactions": [{"reaction": "❤️"}]}),
        ),
    )
    .await;
    let added = wait_for("the reaction", || app.telegram.reactions().pop()).await;
    assert_eq!((added.chat_id, added.message_id), (CHAT, 42));
    // Telegram's spelling of the heart has no variation selector.
    assert_eq!(added.reaction, json!([{"type": "emoji", "emoji": "❤"}]));

    post(
        &app,
        &bridge,
        &webhook(
            &bridge,
            "reaction_delete",
            json!({"external_message_id": customers, "old_reaction": "❤️", "all_reactions": []}),
        ),
    )
    .await;
    let cleared = wait_for("the reaction cleared", || {
        let reactions = app.telegram.reactions();
        (reactions.len() == 2).then(|| reactions[1].clone())
    })
    .await;
    assert_eq!((cleared.chat_id, cleared.message_id), (CHAT, 42));
    assert_eq!(cleared.reaction, json!([]));
}

async fn refusals_reach_mg_with_its_error_codes(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.telegram.block_chat(CHAT);
    post(
        &app,
        &bridge,
        &operator_message(&bridge, 1, json!({"content": "hello"})),
    )
    .await;
    let ack = ack_of(&app, 1).await;
    assert_eq!(ack["error"]["code"], "access_restricted", "{ack}");
    assert!(ack.get("transport_message_id").is_none());

    // A chat Telegram does not know, and one that is not a Telegram chat at all.
    app.telegram
        .fail_times("sendMessage", Failure::chat_not_found(), 1);
    let mut gone = operator_message(&bridge, 2, json!({"content": "hello"}));
    gone["data"]["external_chat_id"] = json!("5");
    post(&app, &bridge, &gone).await;
    assert_eq!(
        ack_of(&app, 2).await["error"]["code"],
        "customer_not_exists"
    );
    let mut foreign = operator_message(&bridge, 3, json!({"content": "hello"}));
    foreign["data"]["external_chat_id"] = json!("chat-99001");
    foreign["data"]["external_user_id"] = json!("u-5001");
    post(&app, &bridge, &foreign).await;
    assert_eq!(
        ack_of(&app, 3).await["error"]["code"],
        "customer_not_exists"
    );

    app.wait_for_jobs("failed", 3).await;
    assert!(app.telegram.messages().is_empty());
}

async fn flood_control_waits_as_long_as_telegram_asks(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.telegram
        .fail_times("sendMessage", Failure::too_many_requests(1), 1);
    let start = Instant::now();

    deliver(&app, &bridge, 1, json!({"content": "hello"})).await;

    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "sent again after {:?}",
        start.elapsed()
    );
    assert_eq!(app.telegram.calls_to("sendMessage").len(), 2);
    assert_eq!(app.telegram.messages_to(CHAT).len(), 1);
    assert_eq!(app.mg.requests_to(&Method::POST, "/messages/ack").len(), 1);
}

async fn a_redelivered_message_sends_only_what_is_missing(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let channel = channel_id(&app).await;
    let two_parts = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
    // An earlier attempt sent the first part, then the process died.
    let part = |part, message_id: i64| SentPart {
        part,
        chat_id: CHAT.to_string(),
        message_id: message_id.to_string(),
    };
    app.store
        .record_sent_part(&channel, 9, &part(0, 555))
        .await
        .unwrap();

    let id = deliver(&app, &bridge, 9, json!({ "content": two_parts })).await;

    let calls = app.telegram.calls_to("sendMessage");
    assert_eq!(calls.len(), 1, "only the missing part");
    assert_eq!(text_of(&calls[0]), "b".repeat(3000));
    assert_eq!(id, format!("{CHAT}:555"), "named by its first part");
    assert_eq!(app.store.sent_parts(&channel, 9).await.unwrap().len(), 2);

    // Everything sent before: nothing is sent again, and MG still learns the id.
    app.store
        .record_sent_part(&channel, 10, &part(0, 777))
        .await
        .unwrap();
    app.store
        .record_sent_part(&channel, 10, &part(1, 778))
        .await
        .unwrap();
    let id = deliver(&app, &bridge, 10, json!({ "content": two_parts })).await;
    assert_eq!(id, format!("{CHAT}:777"));
    assert_eq!(app.telegram.calls_to("sendMessage").len(), 1);
}
