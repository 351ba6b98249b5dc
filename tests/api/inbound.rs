//! Telegram → MG: what each kind of customer update becomes in MessageGateway, through the
//! real service (webhook, queue, worker) against the fake Bot API and the fake MG; and the
//! signed avatar links MG gets instead of Telegram's token-bearing file URLs.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fake_telegram::{Failure, TOKEN};
use crate::helpers::{spawn_bridge, test_settings, wait_for, Bridge, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    a_text_message_reaches_mg_with_the_customer_profile,
    a_photo_is_uploaded_at_its_largest_size_with_its_caption,
    a_document_keeps_its_name_and_type,
    voice_video_and_stickers_become_audio_file_and_image,
    places_contacts_and_polls_arrive_as_readable_text,
    files_the_bot_may_not_download_arrive_as_a_notice,
    a_reply_quotes_the_replied_message,
    an_edit_replaces_the_text_in_mg,
    reactions_added_and_removed_reach_mg,
    a_redelivered_message_counts_as_delivered,
    an_mg_refusal_fails_the_job_without_retrying,
    the_avatar_link_serves_the_photo_without_the_token,
);

/// A private chat with a user id beyond 32 bits (its chat id is the user id).
const CHAT: i64 = 7_100_000_042;
const DATE: i64 = 1_790_000_000;

fn customer() -> Value {
    json!({"id": CHAT, "is_bot": false, "first_name": "Анна", "last_name": "K",
           "username": "anna_k", "language_code": "ru"})
}

/// A message of the customer in the private chat, with `content` merged in.
fn message(message_id: i64, content: Value) -> Value {
    let mut m = json!({
        "message_id": message_id, "date": DATE, "from": customer(),
        "chat": {"id": CHAT, "type": "private", "first_name": "Анна", "username": "anna_k"},
    });
    m.as_object_mut()
        .unwrap()
        .extend(content.as_object().unwrap().clone());
    m
}

/// `message`, from a customer whose Telegram is in `language_code`.
fn message_in(message_id: i64, content: Value, language_code: &str) -> Value {
    let mut m = message(message_id, content);
    m["from"]["language_code"] = json!(language_code);
    m
}

fn update(update_id: i64, kind: &str, body: Value) -> Value {
    json!({ "update_id": update_id, kind: body })
}

async fn post(app: &TestApp, bridge: &Bridge, update: Value) {
    let answer = app.post_telegram_update(bridge, &update).await;
    assert_eq!(answer.status(), StatusCode::OK, "{update}");
}

/// The bodies of the first `n` answered requests to `method path` at MG, waiting for them.
async fn at_mg(app: &TestApp, method: Method, path: &str, n: usize) -> Vec<Value> {
    wait_for(&format!("{n} × {method} {path} at MG"), || {
        let answered: Vec<Value> = app
            .mg
            .requests_to(&method, path)
            .into_iter()
            .filter(|r| r.status != 0)
            .map(|r| r.body.unwrap_or(Value::Null))
            .collect();
        (answered.len() >= n).then(|| answered.into_iter().take(n).collect())
    })
    .await
}

/// The `message` of each message MG received, in order, once there are `n`.
async fn messages_at_mg(app: &TestApp, n: usize) -> Vec<Value> {
    at_mg(app, Method::POST, "/messages", n)
        .await
        .into_iter()
        .map(|body| body["message"].clone())
        .collect()
}

/// The single item of an MG message, and the file MG stored for it.
fn item_file(app: &TestApp, message: &Value) -> (Value, crate::fake_mg::FakeFile) {
    let items = message["items"].as_array().expect("the message has items");
    assert_eq!(items.len(), 1, "{message}");
    let id = items[0]["id"].as_str().unwrap();
    let file = app
        .mg
        .files()
        .into_iter()
        .find(|f| f.id == id)
        .expect("the item is an uploaded file");
    (items[0].clone(), file)
}

async fn a_text_message_reaches_mg_with_the_customer_profile(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        update(
            1,
            "message",
            message(10, json!({"text": "Is the blue one in stock?"})),
        ),
    )
    .await;

    let body = at_mg(&app, Method::POST, "/messages", 1).await.remove(0);
    let avatar = body["customer"]["avatar"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({
            "channel": bridge.mg_channel_id,
            "external_chat_id": CHAT.to_string(),
            "customer": {
                "external_id": CHAT.to_string(), "nickname": "anna_k",
                "first_name": "Анна", "last_name": "K", "language": "ru",
                "profile_url": "https://t.me/anna_k", "avatar": avatar,
            },
            "message": {
                "type": "text", "external_id": format!("{CHAT}:10"),
                "created_at": "2026-09-21T14:13:20Z", "text": "Is the blue one in stock?",
            },
        })
    );
    // Our own signed link, never Telegram's file URL (which holds the token).
    assert!(
        avatar.starts_with(&format!("{PUBLIC_URL}/avatar/")),
        "{avatar}"
    );
    let secret = TOKEN.split_once(':').unwrap().1;
    assert!(
        !avatar.contains(secret) && !avatar.contains("/file/bot"),
        "{avatar}"
    );
    assert_eq!(
        app.mg.messages()[0].text.as_deref(),
        Some("Is the blue one in stock?")
    );
}

async fn a_photo_is_uploaded_at_its_largest_size_with_its_caption(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let small = app
        .telegram
        .put_file("photos/file_1.jpg", b"small jpeg".to_vec());
    let large = app
        .telegram
        .put_file("photos/file_2.jpg", b"\xff\xd8\xff large jpeg".to_vec());
    let mid = app
        .telegram
        .put_file("photos/file_3.jpg", b"mid jpeg".to_vec());
    let photo = json!({
        "photo": [
            {"file_id": small, "file_unique_id": "s", "width": 90, "height": 67, "file_size": 10},
            {"file_id": large, "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 21},
            {"file_id": mid, "file_unique_id": "m", "width": 320, "height": 240, "file_size": 8}
        ],
        "caption": "this one, size M"
    });
    post(&app, &bridge, update(1, "message", message(11, photo))).await;

    let message = messages_at_mg(&app, 1).await.remove(0);
    assert_eq!(message["type"], "image");
    assert_eq!(message["note"], "this one, size M");
    assert_eq!(message["external_id"], format!("{CHAT}:11"));
    let (item, file) = item_file(&app, &message);
    assert_eq!(&file.bytes[..], b"\xff\xd8\xff large jpeg");
    assert_eq!(file.mime_type, "image/jpeg");
    assert_eq!(item.get("caption"), None);
    // Only the largest size was fetched.
    let got: Vec<Value> = app
        .telegram
        .calls_to("getFile")
        .into_iter()
        .map(|c| c.params["file_id"].clone())
        .collect();
    assert_eq!(got, [json!(large)]);
    assert_eq!(app.mg.files().len(), 1);
}

async fn a_document_keeps_its_name_and_type(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let pdf = b"%PDF-1.7 price list".to_vec();
    let id = app.telegram.put_file("documents/file_7.pdf", pdf.clone());
    let document = json!({
        "document": {"file_id": id, "file_unique_id": "d", "file_name": "Прайс №5.pdf",
                     "mime_type": "application/pdf", "file_size": pdf.len()},
    });
    post(&app, &bridge, update(1, "message", message(12, document))).await;

    let message = messages_at_mg(&app, 1).await.remove(0);
    assert_eq!(message["type"], "file");
    assert_eq!(message.get("note"), None);
    let (item, file) = item_file(&app, &message);
    assert_eq!(item["caption"], "Прайс №5.pdf");
    assert_eq!(file.mime_type, "application/pdf");
    assert_eq!(&file.bytes[..], &pdf[..]);
}

async fn voice_video_and_stickers_become_audio_file_and_image(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let voice = app
        .telegram
        .put_file("voice/file_1.oga", b"OggS voice".to_vec());
    let video = app
        .telegram
        .put_file("videos/file_2.mp4", b"mp4 video".to_vec());
    let sticker = app
        .telegram
        .put_file("stickers/file_3.webp", b"RIFF webp".to_vec());
    let updates = [
        json!({"voice": {"file_id": voice, "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg"}}),
        json!({"video": {"file_id": video, "file_unique_id": "vi", "width": 640, "height": 360,
                         "duration": 5, "mime_type": "video/mp4"}, "caption": "unboxing"}),
        json!({"sticker": {"file_id": sticker, "file_unique_id": "s", "type": "regular",
                           "width": 512, "height": 512, "emoji": "😀"}}),
        json!({"sticker": {"file_id": "animated", "file_unique_id": "a", "type": "regular",
                           "width": 512, "height": 512, "is_animated": true, "emoji": "🎉"}}),
    ];
    for (i, content) in updates.into_iter().enumerate() {
        let i = i as i64;
        post(
            &app,
            &bridge,
            update(1 + i, "message", message(20 + i, content)),
        )
        .await;
    }

    let messages = messages_at_mg(&app, 4).await;
    let kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["audio", "file", "image", "text"]);
    let (_, voice) = item_file(&app, &messages[0]);
    assert_eq!(
        (&voice.bytes[..], voice.mime_type.as_str()),
        (&b"OggS voice"[..], "audio/ogg")
    );
    let (_, video) = item_file(&app, &messages[1]);
    assert_eq!(
        (&video.bytes[..], video.mime_type.as_str()),
        (&b"mp4 video"[..], "video/mp4")
    );
    assert_eq!(messages[1]["note"], "unboxing");
    let (_, sticker) = item_file(&app, &messages[2]);
    assert_eq!(sticker.mime_type, "image/webp");
    // An animated sticker is no image: its emoji is sent, and nothing is downloaded for it.
    assert_eq!(messages[3]["text"], "🎉");
    assert_eq!(app.telegram.calls_to("getFile").len(), 3);
}

async fn places_contacts_and_polls_arrive_as_readable_text(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let updates = [
        json!({"location": {"latitude": 55.75, "longitude": 37.61}}),
        json!({"venue": {"location": {"latitude": 52.52, "longitude": 13.405}, "title": "Acme Shop",
                         "address": "Main St 1"},
               "location": {"latitude": 52.52, "longitude": 13.405}}),
        json!({"contact": {"phone_number": "+4915112345678", "first_name": "Eve", "last_name": "Smith"}}),
        json!({"poll": {"id": "p1", "question": "Which colour?", "type": "regular",
                        "options": [{"text": "red", "voter_count": 0}, {"text": "blue", "voter_count": 0}]}}),
    ];
    for (i, content) in updates.into_iter().enumerate() {
        let i = i as i64;
        post(
            &app,
            &bridge,
            update(1 + i, "message", message_in(30 + i, content, "en")),
        )
        .await;
    }
    // The texts are in the customer's language: Russian, Spanish; English for the others.
    let poll = json!({"poll": {"id": "p2", "question": "¿Color?", "type": "quiz",
                               "options": [{"text": "rojo", "voter_count": 0}]}});
    let in_languages = [
        (
            json!({"location": {"latitude": 55.75, "longitude": 37.61}}),
            "ru",
        ),
        (poll, "es-419"),
        (
            json!({"contact": {"phone_number": "+4915112345678", "first_name": "Eve"}}),
            "de",
        ),
    ];
    for (i, (content, lang)) in in_languages.into_iter().enumerate() {
        let i = i as i64;
        post(
            &app,
            &bridge,
            update(5 + i, "message", message_in(34 + i, content, lang)),
        )
        .await;
    }

    let texts: Vec<String> = messages_at_mg(&app, 7)
        .await
        .iter()
        .map(|m| {
            assert_eq!(m["type"], "text", "{m}");
            m["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "📍 Location: 55.75, 37.61 https://maps.google.com/?q=55.75,37.61",
            "📍 Acme Shop, Main St 1 https://maps.google.com/?q=52.52,13.405",
            "👤 Contact: Eve Smith, +4915112345678",
            "📊 Poll: Which colour?\n• red\n• blue",
            "📍 Геопозиция: 55.75, 37.61 https://maps.google.com/?q=55.75,37.61",
            "📊 Cuestionario: ¿Color?\n• rojo",
            "👤 Contact: Eve, +4915112345678",
        ]
    );
}

async fn files_the_bot_may_not_download_arrive_as_a_notice(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // The message says it is over 20 MB: Telegram is not even asked.
    let big = json!({
        "video": {"file_id": "big-video", "file_unique_id": "bv", "width": 1920, "height": 1080,
                  "duration": 300, "file_name": "video.mp4", "mime_type": "video/mp4",
                  "file_size": 36_909_875_u64},
        "caption": "the parcel arrived like this"
    });
    post(&app, &bridge, update(1, "message", message(40, big))).await;
    let first = messages_at_mg(&app, 1).await.remove(0);
    assert_eq!(first["type"], "text");
    // The customer's Telegram is in Russian.
    assert_eq!(
        first["text"],
        "📎 video.mp4 (35.2 МБ) — слишком большой файл, бот не может его скачать; попросите \
         клиента прислать его другим способом\n\nthe parcel arrived like this"
    );
    assert!(app.telegram.calls_to("getFile").is_empty());

    // No size in the message, and Telegram refuses the download.
    app.telegram
        .fail("getFile", Failure::api(400, "Bad Request: file is too big"));
    let unsized_document = json!({
        "document": {"file_id": "big-doc", "file_unique_id": "bd", "file_name": "scan.zip"},
        "caption": "all pages"
    });
    post(
        &app,
        &bridge,
        update(2, "message", message_in(41, unsized_document, "en")),
    )
    .await;
    let second = messages_at_mg(&app, 2).await.remove(1);
    assert_eq!(
        second["text"],
        "📎 scan.zip — too large for the bot to download; ask the customer to send it another \
         way\n\nall pages"
    );
    assert!(app.mg.files().is_empty());
    app.wait_for_jobs("done", 2).await;
}

async fn a_reply_quotes_the_replied_message(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        update(1, "message", message(50, json!({"text": "the blue one"}))),
    )
    .await;
    let reply = json!({
        "text": "size M please",
        "reply_to_message": message(50, json!({"text": "the blue one"})),
    });
    post(&app, &bridge, update(2, "message", message(51, reply))).await;
    let bodies = at_mg(&app, Method::POST, "/messages", 2).await;
    assert_eq!(bodies[0].get("quote"), None);
    assert_eq!(
        bodies[1]["quote"],
        json!({"external_id": format!("{CHAT}:50")})
    );

    // A reply to a message MG does not know (from before the bot was bridged) that MG refuses
    // is delivered without its quote rather than lost.
    app.mg
        .fail_next_with(1, 400, r#"{"errors":["Quoted message not found"]}"#, None);
    let old_reply = json!({
        "text": "and this one?",
        "reply_to_message": message(3, json!({"text": "long ago"})),
    });
    post(&app, &bridge, update(3, "message", message(52, old_reply))).await;
    let bodies = at_mg(&app, Method::POST, "/messages", 4).await;
    assert_eq!(
        bodies[2]["quote"],
        json!({"external_id": format!("{CHAT}:3")})
    );
    assert_eq!(bodies[3].get("quote"), None);
    assert_eq!(bodies[3]["message"]["text"], "and this one?");
    let texts: Vec<Option<String>> = app.mg.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts.last().unwrap().as_deref(), Some("and this one?"));
}

async fn an_edit_replaces_the_text_in_mg(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        update(1, "message", message(60, json!({"text": "the blue one"}))),
    )
    .await;
    let mut edited = message(60, json!({"text": "the red one", "edit_date": DATE + 60}));
    edited["date"] = json!(DATE);
    post(&app, &bridge, update(2, "edited_message", edited)).await;

    let put = at_mg(&app, Method::PUT, "/messages", 1).await.remove(0);
    assert_eq!(
        put,
        json!({
            "channel": bridge.mg_channel_id,
            "message": {"external_id": format!("{CHAT}:60"), "text": "the red one",
                        "edited_at": DATE + 60},
        })
    );
    assert_eq!(app.mg.messages()[0].text.as_deref(), Some("the red one"));
}

async fn reactions_added_and_removed_reach_mg(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        update(1, "message", message(70, json!({"text": "thanks!"}))),
    )
    .await;
    let reaction = |update_id: i64, old: Value, new: Value| {
        update(
            update_id,
            "message_reaction",
            json!({
                "chat": {"id": CHAT, "type": "private", "first_name": "Анна"},
                "message_id": 70, "user": customer(), "date": DATE + 5,
                "old_reaction": old, "new_reaction": new,
            }),
        )
    };
    post(
        &app,
        &bridge,
        reaction(2, json!([]), json!([{"type": "emoji", "emoji": "👍"}])),
    )
    .await;
    at_mg(&app, Method::POST, "/messages/reaction", 1).await;
    post(
        &app,
        &bridge,
        reaction(
            3,
            json!([{"type": "emoji", "emoji": "👍"}]),
            json!([{"type": "emoji", "emoji": "❤"},
                   {"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"}]),
        ),
    )
    .await;

    let added = at_mg(&app, Method::POST, "/messages/reaction", 2).await;
    let removed = at_mg(&app, Method::DELETE, "/messages/reaction", 1).await;
    let on = json!({"external_id": format!("{CHAT}:70")});
    let channel = bridge.mg_channel_id;
    assert_eq!(
        added,
        [
            json!({"channel": channel, "message": on, "reaction": "👍"}),
            json!({"channel": channel, "message": on, "reaction": "❤"}),
        ]
    );
    assert_eq!(
        removed,
        [json!({"channel": channel, "message": on, "reaction": "👍"})]
    );
    app.wait_for_jobs("done", 3).await;
    assert_eq!(app.mg.messages()[0].reactions, ["❤"]);
}

async fn a_redelivered_message_counts_as_delivered(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        update(1, "message", message(80, json!({"text": "hello"}))),
    )
    .await;
    messages_at_mg(&app, 1).await;
    // The same message again under another update id (as after a lost answer): MG says it
    // has it, which is success, not a failure.
    post(
        &app,
        &bridge,
        update(2, "message", message(80, json!({"text": "hello"}))),
    )
    .await;
    at_mg(&app, Method::POST, "/messages", 2).await;
    app.wait_for_jobs("done", 2).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
    assert_eq!(app.mg.messages().len(), 1);
}

async fn an_mg_refusal_fails_the_job_without_retrying(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // The channel was switched off on MG's side: MG answers 400 "Channel not found".
    app.mg
        .set(|s| s.channels.iter_mut().for_each(|c| c.is_active = false));
    post(
        &app,
        &bridge,
        update(1, "message", message(90, json!({"text": "hello"}))),
    )
    .await;
    app.wait_for_jobs("failed", 1).await;
    assert_eq!(app.mg.requests_to(&Method::POST, "/messages").len(), 1);
    assert!(app.mg.messages().is_empty());
}

async fn the_avatar_link_serves_the_photo_without_the_token(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.telegram.set_profile_photo(
        CHAT,
        &[(160, b"jpeg 160"), (320, b"jpeg 320"), (640, b"jpeg 640")],
    );
    post(
        &app,
        &bridge,
        update(1, "message", message(100, json!({"text": "hi"}))),
    )
    .await;
    let body = at_mg(&app, Method::POST, "/messages", 1).await.remove(0);
    let link = body["customer"]["avatar"].as_str().unwrap().to_owned();
    // The link is for our public address; the test reaches the same service locally.
    let local = |link: &str| link.replacen(PUBLIC_URL, &app.address, 1);

    let answer = app.client.get(local(&link)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "image/jpeg");
    assert_eq!(answer.headers()["cache-control"], "public, max-age=86400");
    assert_eq!(&answer.bytes().await.unwrap()[..], b"jpeg 160");
    let asked = app.telegram.last_call_to("getUserProfilePhotos").unwrap();
    assert_eq!(asked.params["user_id"], json!(CHAT));
    assert_eq!(asked.params["limit"], json!(1));
    let telegram_calls = app.telegram.calls().len();

    // Tampered with: another user, another signature. Refused before Telegram is asked.
    let url = url::Url::parse(&link).unwrap();
    let sig = url
        .query_pairs()
        .find(|(k, _)| k == "sig")
        .unwrap()
        .1
        .into_owned();
    let mut flipped = sig.clone();
    flipped.replace_range(0..1, if sig.starts_with('0') { "1" } else { "0" });
    for bad in [
        link.replace(&format!("/{CHAT}?"), "/7100000043?"),
        link.replace(&sig, &flipped),
        link.split('?').next().unwrap().to_owned(),
    ] {
        let answer = app.client.get(local(&bad)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{bad}");
    }
    // Signed with the service's key, but expired.
    let settings = test_settings(&app.database.url, db);
    let key = mgbridge::app::master_key_for(&settings).unwrap();
    let links = mgbridge::bridge::avatar::AvatarLinks::from_master(&key, PUBLIC_URL);
    let channel_id = url.path_segments().unwrap().nth(1).unwrap().to_owned();
    let channel = mgbridge::store::ChannelId::parse(&channel_id).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = links.url_until(&channel, &CHAT.to_string(), now - 1);
    let answer = app.client.get(local(&expired)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.telegram.calls().len(), telegram_calls);
    // The same key signs a live link the service accepts.
    let live = links.url_until(&channel, &CHAT.to_string(), now + 60);
    assert_eq!(
        app.client.get(local(&live)).send().await.unwrap().status(),
        StatusCode::OK
    );

    // A user without a profile photo, and a removed bot: nothing to show.
    let nobody = links.url_until(&channel, "7100000099", now + 60);
    let answer = app.client.get(local(&nobody)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let removed = app.remove_bot(&bridge.client_id, &channel_id).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{removed:?}");
    let answer = app.client.get(local(&link)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    // Nothing the service sent anywhere carried the token.
    let secret = TOKEN.split_once(':').unwrap().1;
    for request in app.mg.requests() {
        let text = request.body.map(|b| b.to_string()).unwrap_or_default();
        assert!(!text.contains(secret), "{text}");
    }
}
