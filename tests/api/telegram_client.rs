//! The Bot API client against the fake Telegram (and a few hostile servers): typed answers,
//! exact request bodies, errors a delivery worker can act on, streamed downloads, and the bot
//! token never showing in an error or a log line.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::{Json, Router};
use mgbridge::messenger::telegram::{
    Bot, BotToken, EditMessageCaption, EditMessageText, InputFile, InputMedia, MediaKind,
    ParseMode, ReactionType, ReplyKeyboardMarkup, ReplyMarkup, ReplyParameters, SendMedia,
    SendMediaGroup, SendMessage, SetMessageReaction, SetWebhook, TelegramClient, TelegramError,
    UploadFile, BRIDGE_UPDATES,
};
use mgbridge::messenger::telegram::{InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton};
use secrecy::SecretString;
use serde_json::json;

use crate::fake_telegram::{
    Failure, FakeTelegram, Webhook, BOT_ID, BOT_USERNAME, OTHER_TOKEN, TOKEN,
};
use crate::helpers::capture_logs;

/// A private chat whose id needs more than 32 bits.
const CHAT: i64 = 7_123_456_789;
const WEBHOOK_SECRET: &str = "s3cr3t_Webhook-Token_0123456789abcdef";

fn secret_of(token: &str) -> &str {
    token.split_once(':').unwrap().1
}

fn client_for(api_url: &str, timeout: Duration) -> TelegramClient {
    TelegramClient::new(&api_url.parse().unwrap(), timeout).unwrap()
}

fn bot_for(api_url: &str, token: &str) -> Bot {
    client_for(api_url, Duration::from_secs(5)).bot(&BotToken::parse(token).unwrap())
}

fn bot(fake: &FakeTelegram) -> Bot {
    bot_for(&fake.url, TOKEN)
}

/// The token's secret appears nowhere in what an error shows.
fn assert_no_token(error: &TelegramError) {
    let shown = format!("{error} | {error:?}");
    assert!(!shown.contains(secret_of(TOKEN)), "token leaked: {shown}");
}

fn webhook_request() -> SetWebhook {
    SetWebhook {
        url: "https://transport.example.com/telegram/webhook/ch_42"
            .parse()
            .unwrap(),
        secret_token: SecretString::from(WEBHOOK_SECRET),
        allowed_updates: BRIDGE_UPDATES.iter().map(|s| s.to_string()).collect(),
        max_connections: Some(20),
        drop_pending_updates: Some(true),
    }
}

#[tokio::test]
async fn get_me_returns_the_bot() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.id, BOT_ID);
    assert!(me.is_bot);
    assert_eq!(me.username.as_deref(), Some(BOT_USERNAME));
    assert_eq!(bot.id(), BOT_ID);
    assert_eq!(format!("{bot:?}"), format!("Bot {{ id: {BOT_ID} }}"));
    let call = fake.last_call_to("getMe").unwrap();
    assert_eq!(call.token, TOKEN);
    assert_eq!(call.http_method, "POST");
}

#[tokio::test]
async fn an_unknown_or_revoked_token_is_unauthorized() {
    let fake = FakeTelegram::with_bot().await;
    let unknown = bot_for(&fake.url, OTHER_TOKEN).get_me().await.unwrap_err();
    assert!(
        matches!(unknown, TelegramError::Unauthorized),
        "{unknown:?}"
    );
    assert!(!unknown.is_transient());

    fake.revoke(TOKEN);
    let revoked = bot(&fake).get_me().await.unwrap_err();
    assert!(
        matches!(revoked, TelegramError::Unauthorized),
        "{revoked:?}"
    );
    assert_no_token(&revoked);
}

#[tokio::test]
async fn set_webhook_sends_exactly_the_url_secret_and_update_kinds() {
    let fake = FakeTelegram::with_bot().await;
    assert!(bot(&fake).set_webhook(&webhook_request()).await.unwrap());

    let call = fake.last_call_to("setWebhook").unwrap();
    assert_eq!(
        call.params,
        json!({
            "url": "https://transport.example.com/telegram/webhook/ch_42",
            "secret_token": WEBHOOK_SECRET,
            "allowed_updates": ["message", "edited_message", "message_reaction", "my_chat_member"],
            "max_connections": 20,
            "drop_pending_updates": true,
        })
    );
    assert_eq!(
        fake.webhook_of(TOKEN),
        Some(Webhook {
            url: "https://transport.example.com/telegram/webhook/ch_42".into(),
            secret_token: Some(WEBHOOK_SECRET.into()),
            allowed_updates: vec![
                "message".into(),
                "edited_message".into(),
                "message_reaction".into(),
                "my_chat_member".into()
            ],
            max_connections: 20,
        })
    );
    // The request's Debug, which a log line might show, keeps the secret to itself.
    assert!(!format!("{:?}", webhook_request()).contains(WEBHOOK_SECRET));
}

#[tokio::test]
async fn optional_set_webhook_fields_are_left_out() {
    let fake = FakeTelegram::with_bot().await;
    let request = SetWebhook {
        max_connections: None,
        drop_pending_updates: None,
        ..webhook_request()
    };
    bot(&fake).set_webhook(&request).await.unwrap();
    let params = fake.last_call_to("setWebhook").unwrap().params;
    let keys: Vec<&str> = params
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{params}");
    assert!(["url", "secret_token", "allowed_updates"]
        .iter()
        .all(|k| keys.contains(k)));
}

#[tokio::test]
async fn a_refused_webhook_is_an_api_error_with_telegrams_words() {
    let fake = FakeTelegram::with_bot().await;
    let request = SetWebhook {
        url: "http://transport.example.com/hook".parse().unwrap(),
        ..webhook_request()
    };
    let error = bot(&fake).set_webhook(&request).await.unwrap_err();
    match &error {
        TelegramError::Api {
            code, description, ..
        } => {
            assert_eq!(*code, 400);
            assert!(
                description.contains("HTTPS URL must be provided"),
                "{description}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_transient());
    assert_eq!(fake.webhook_of(TOKEN), None);
}

#[tokio::test]
async fn delete_webhook_removes_it_and_says_whether_to_drop_updates() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);
    bot.set_webhook(&webhook_request()).await.unwrap();
    assert!(bot.delete_webhook(false).await.unwrap());
    assert_eq!(
        fake.last_call_to("deleteWebhook").unwrap().params,
        json!({"drop_pending_updates": false})
    );
    assert_eq!(fake.webhook_of(TOKEN), None);
    // Deleting again is fine too (Telegram says "Webhook is already deleted").
    assert!(bot.delete_webhook(true).await.unwrap());
}

#[tokio::test]
async fn webhook_info_reports_what_was_set() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);
    let before = bot.get_webhook_info().await.unwrap();
    assert_eq!(before.url, "");
    bot.set_webhook(&webhook_request()).await.unwrap();
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(
        info.url,
        "https://transport.example.com/telegram/webhook/ch_42"
    );
    assert_eq!(info.max_connections, Some(20));
    assert_eq!(
        info.allowed_updates,
        Some(vec![
            "message".to_owned(),
            "edited_message".to_owned(),
            "message_reaction".to_owned(),
            "my_chat_member".to_owned()
        ])
    );
}

#[tokio::test]
async fn flood_control_carries_retry_after_and_the_client_does_not_retry() {
    let fake = FakeTelegram::with_bot().await;
    fake.fail_times("sendMessage", Failure::too_many_requests(7), 1);
    let bot = bot(&fake);
    let error = bot
        .send_message(&SendMessage::new(CHAT, "hello"))
        .await
        .unwrap_err();
    match &error {
        TelegramError::Api {
            code,
            description,
            retry_after,
            migrate_to_chat_id,
        } => {
            assert_eq!(*code, 429);
            assert_eq!(description, "Too Many Requests: retry after 7");
            assert_eq!(*retry_after, Some(7));
            assert_eq!(*migrate_to_chat_id, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert!(error.is_transient());
    assert_eq!(fake.calls_to("sendMessage").len(), 1, "no retry inside");
    // The caller's own retry goes through.
    bot.send_message(&SendMessage::new(CHAT, "hello"))
        .await
        .unwrap();
}

#[tokio::test]
async fn blocked_users_missing_chats_and_migrated_groups_are_recognised() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);
    fake.block_chat(CHAT);
    let blocked = bot
        .send_message(&SendMessage::new(CHAT, "hi"))
        .await
        .unwrap_err();
    assert!(blocked.is_blocked_by_user(), "{blocked:?}");
    assert!(blocked.is_forbidden());
    assert!(!blocked.is_transient());

    fake.fail_times("sendMessage", Failure::chat_not_found(), 1);
    let gone = bot
        .send_message(&SendMessage::new(42, "hi"))
        .await
        .unwrap_err();
    assert!(gone.is_chat_not_found(), "{gone:?}");
    assert!(!gone.is_blocked_by_user());

    fake.fail_times("sendMessage", Failure::migrated_to(-1_001_234_567_890), 1);
    let moved = bot
        .send_message(&SendMessage::new(-4_012_345, "hi"))
        .await
        .unwrap_err();
    assert_eq!(moved.migrate_to_chat_id(), Some(-1_001_234_567_890));
}

#[tokio::test]
async fn a_failing_bot_api_is_a_transient_error() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);

    fake.fail_times("getMe", Failure::server_error(), 1);
    let error = bot.get_me().await.unwrap_err();
    assert!(
        matches!(error, TelegramError::Api { code: 500, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());

    // Telegram's nginx answering for a Bot API that is down: no JSON at all.
    fake.fail("*", Failure::Down);
    let error = bot.get_me().await.unwrap_err();
    assert!(
        matches!(error, TelegramError::Api { code: 502, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_no_token(&error);
}

#[tokio::test]
async fn send_message_sends_reply_parameters_parse_mode_and_keyboards() {
    let fake = FakeTelegram::with_bot().await;
    fake.know_message(CHAT, 17);
    let bot = bot(&fake);
    let request = SendMessage {
        parse_mode: Some(ParseMode::Html),
        reply_parameters: Some(ReplyParameters::to(17)),
        reply_markup: Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup {
            inline_keyboard: vec![vec![InlineKeyboardButton {
                text: "Track".into(),
                url: Some("https://shop.example/track/1".into()),
                callback_data: None,
            }]],
        })),
        ..SendMessage::new(CHAT, "<b>Shipped</b> today")
    };
    let sent = bot.send_message(&request).await.unwrap();
    assert_eq!(sent.chat.id, CHAT);
    assert_eq!(sent.text.as_deref(), Some("<b>Shipped</b> today"));
    assert_eq!(sent.reply_to_message.unwrap().message_id, 17);
    assert_eq!(sent.from.unwrap().id, BOT_ID);
    assert_eq!(
        fake.last_call_to("sendMessage").unwrap().params,
        json!({
            "chat_id": CHAT,
            "text": "<b>Shipped</b> today",
            "parse_mode": "HTML",
            "reply_parameters": {"message_id": 17, "allow_sending_without_reply": true},
            "reply_markup": {"inline_keyboard": [[{"text": "Track", "url": "https://shop.example/track/1"}]]},
        })
    );

    // Message ids grow; a reply keyboard goes as its own shape.
    let second = bot
        .send_message(&SendMessage {
            reply_markup: Some(ReplyMarkup::Keyboard(ReplyKeyboardMarkup {
                keyboard: vec![vec![
                    KeyboardButton::text("Yes"),
                    KeyboardButton::text("No"),
                ]],
                resize_keyboard: Some(true),
                one_time_keyboard: None,
                is_persistent: None,
                input_field_placeholder: None,
            })),
            ..SendMessage::new(CHAT, "Did it arrive?")
        })
        .await
        .unwrap();
    assert!(second.message_id > sent.message_id);
    assert_eq!(
        fake.last_call_to("sendMessage").unwrap().params["reply_markup"],
        json!({"keyboard": [[{"text": "Yes"}, {"text": "No"}]], "resize_keyboard": true})
    );

    // A strict reply to a message Telegram does not know fails, in Telegram's words.
    let strict = ReplyParameters {
        allow_sending_without_reply: None,
        ..ReplyParameters::to(999)
    };
    let error = bot
        .send_message(&SendMessage {
            reply_parameters: Some(strict),
            ..SendMessage::new(CHAT, "x")
        })
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("message to be replied not found"),
        "{error}"
    );
}

#[tokio::test]
async fn send_photo_by_url_and_document_by_upload() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);

    let photo = SendMedia {
        caption: Some("Blue, size M".into()),
        ..SendMedia::new(
            CHAT,
            InputFile::Url("https://cdn.shop.example/blue.jpg".into()),
        )
    };
    let sent = bot.send_photo(&photo).await.unwrap();
    assert_eq!(sent.caption.as_deref(), Some("Blue, size M"));
    assert_eq!(sent.photo.len(), 1);
    assert_eq!(
        fake.last_call_to("sendPhoto").unwrap().params,
        json!({"chat_id": CHAT, "photo": "https://cdn.shop.example/blue.jpg", "caption": "Blue, size M"})
    );

    let pdf = b"%PDF-1.7 fake invoice".to_vec();
    let document = SendMedia {
        caption: Some("Your invoice".into()),
        parse_mode: Some(ParseMode::Html),
        reply_parameters: Some(ReplyParameters::to(5)),
        ..SendMedia::new(
            CHAT,
            InputFile::Upload(UploadFile {
                mime_type: Some("application/pdf".into()),
                ..UploadFile::new("Счёт №5.pdf", pdf.clone())
            }),
        )
    };
    let sent = bot.send_document(&document).await.unwrap();
    assert_eq!(
        sent.document.as_ref().unwrap().file_size,
        Some(pdf.len() as u64)
    );
    let call = fake.last_call_to("sendDocument").unwrap();
    assert_eq!(
        call.params,
        json!({
            "chat_id": CHAT.to_string(),
            "caption": "Your invoice",
            "parse_mode": "HTML",
            "reply_parameters": {"message_id": 5, "allow_sending_without_reply": true},
        })
    );
    assert_eq!(call.files.len(), 1);
    assert_eq!(call.files[0].field, "document");
    assert_eq!(call.files[0].file_name.as_deref(), Some("Счёт №5.pdf"));
    assert_eq!(
        call.files[0].content_type.as_deref(),
        Some("application/pdf")
    );
    assert_eq!(call.files[0].bytes, pdf);

    // The other kinds go to their own methods and fields.
    let voice = SendMedia::new(
        CHAT,
        InputFile::Upload(UploadFile::new("note.ogg", b"OggS".to_vec())),
    );
    assert!(bot.send_voice(&voice).await.unwrap().voice.is_some());
    assert_eq!(
        fake.last_call_to("sendVoice").unwrap().files[0].field,
        "voice"
    );
    let by_id = SendMedia::new(CHAT, InputFile::FileId(sent.document.unwrap().file_id));
    assert!(bot.send_video(&by_id).await.unwrap().video.is_some());
    assert!(bot.send_audio(&by_id).await.unwrap().audio.is_some());
    assert!(bot
        .send_animation(&by_id)
        .await
        .unwrap()
        .animation
        .is_some());
}

#[tokio::test]
async fn send_media_group_uploads_with_attach_references() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);
    let request = SendMediaGroup {
        chat_id: CHAT,
        media: vec![
            InputMedia {
                caption: Some("Two colours".into()),
                ..InputMedia::new(
                    MediaKind::Photo,
                    InputFile::Upload(UploadFile::new("red.jpg", vec![0xFF, 0xD8, 0xFF])),
                )
            },
            InputMedia::new(
                MediaKind::Photo,
                InputFile::Url("https://cdn.shop.example/blue.jpg".into()),
            ),
        ],
        reply_parameters: None,
        disable_notification: None,
    };
    let sent = bot.send_media_group(&request).await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].caption.as_deref(), Some("Two colours"));
    assert_eq!(sent[0].media_group_id, sent[1].media_group_id);
    let call = fake.last_call_to("sendMediaGroup").unwrap();
    assert_eq!(
        call.params["media"],
        json!([
            {"type": "photo", "media": "attach://file0", "caption": "Two colours"},
            {"type": "photo", "media": "https://cdn.shop.example/blue.jpg"},
        ])
    );
    assert_eq!(call.files[0].field, "file0");
    assert_eq!(call.files[0].bytes, vec![0xFF, 0xD8, 0xFF]);
}

#[tokio::test]
async fn edit_delete_and_react() {
    let fake = FakeTelegram::with_bot().await;
    let bot = bot(&fake);
    let text = bot
        .send_message(&SendMessage::new(CHAT, "Price: 10"))
        .await
        .unwrap();
    let edited = bot
        .edit_message_text(&EditMessageText {
            chat_id: CHAT,
            message_id: text.message_id,
            text: "Price: 12".into(),
            parse_mode: None,
            reply_markup: None,
        })
        .await
        .unwrap();
    assert_eq!(edited.text.as_deref(), Some("Price: 12"));
    assert!(edited.edit_date.is_some());

    let photo = bot
        .send_photo(&SendMedia::new(
            CHAT,
            InputFile::Url("https://cdn.shop.example/a.jpg".into()),
        ))
        .await
        .unwrap();
    let captioned = bot
        .edit_message_caption(&EditMessageCaption {
            chat_id: CHAT,
            message_id: photo.message_id,
            caption: Some("Now with a caption".into()),
            parse_mode: None,
            reply_markup: None,
        })
        .await
        .unwrap();
    assert_eq!(captioned.caption.as_deref(), Some("Now with a caption"));

    assert!(bot.delete_message(CHAT, text.message_id).await.unwrap());
    assert!(fake.messages_to(CHAT)[0].deleted);
    let again = bot.delete_message(CHAT, text.message_id).await.unwrap_err();
    assert!(
        again.to_string().contains("message to delete not found"),
        "{again}"
    );

    let reaction = SetMessageReaction {
        chat_id: CHAT,
        message_id: 17,
        reaction: vec![ReactionType::emoji("👍")],
        is_big: None,
    };
    assert!(bot.set_message_reaction(&reaction).await.unwrap());
    assert_eq!(
        fake.last_call_to("setMessageReaction").unwrap().params,
        json!({"chat_id": CHAT, "message_id": 17, "reaction": [{"type": "emoji", "emoji": "👍"}]})
    );
}

#[tokio::test]
async fn get_file_and_download_stream_in_pieces() {
    let fake = FakeTelegram::with_bot().await;
    let content: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let file_id = fake.put_file("documents/file_7.pdf", content.clone());
    let bot = bot(&fake);

    let file = bot.get_file(&file_id).await.unwrap();
    assert_eq!(file.file_size, Some(content.len() as u64));
    let path = file.file_path.unwrap();
    assert_eq!(path, "documents/file_7.pdf");

    let mut download = bot.download_file(&path).await.unwrap();
    assert_eq!(download.content_length(), Some(content.len() as u64));
    assert!(!format!("{download:?}").contains(secret_of(TOKEN)));
    let mut received = Vec::new();
    let mut pieces = 0;
    while let Some(chunk) = download.chunk().await.unwrap() {
        pieces += 1;
        received.extend_from_slice(&chunk);
    }
    assert_eq!(received, content);
    assert!(pieces > 1, "the file came in {pieces} piece(s)");
    assert!(fake
        .calls()
        .iter()
        .any(|c| c.method == "file/documents/file_7.pdf" && c.token == TOKEN));

    // Passed on as a body (to an upload, or an axum response) without reading it here.
    let body = bot.download_file(&path).await.unwrap().into_body();
    let bytes = axum::body::to_bytes(axum::body::Body::new(body), usize::MAX)
        .await
        .unwrap();
    assert_eq!(bytes.len(), content.len());

    let missing = bot.download_file("documents/nope.pdf").await.unwrap_err();
    assert!(
        matches!(missing, TelegramError::Api { code: 404, .. }),
        "{missing:?}"
    );
    let odd = bot.download_file("../../etc/passwd").await.unwrap_err();
    assert!(matches!(odd, TelegramError::Decode(_)), "{odd:?}");
}

#[tokio::test]
async fn token_never_in_errors_when_the_connection_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let bot = bot_for(&closed, TOKEN);

    let error = bot.get_me().await.unwrap_err();
    assert!(matches!(error, TelegramError::Unreachable(_)), "{error:?}");
    assert!(error.to_string().contains("connection failed"), "{error}");
    assert!(error.is_transient());
    assert_no_token(&error);

    let error = bot.download_file("photos/file_1.jpg").await.unwrap_err();
    assert!(matches!(error, TelegramError::Unreachable(_)), "{error:?}");
    assert_no_token(&error);
}

#[tokio::test]
async fn token_never_in_errors_when_the_answer_is_not_json() {
    let fake = FakeTelegram::with_bot().await;
    fake.fail("getMe", Failure::NotJson);
    let error = bot(&fake).get_me().await.unwrap_err();
    assert!(matches!(error, TelegramError::Decode(_)), "{error:?}");
    assert!(!error.is_transient());
    assert_no_token(&error);
}

#[tokio::test]
async fn token_never_in_errors_on_a_timeout() {
    let fake = FakeTelegram::with_bot().await;
    fake.fail("getMe", Failure::Slow(Duration::from_secs(3)));
    let bot =
        client_for(&fake.url, Duration::from_millis(300)).bot(&BotToken::parse(TOKEN).unwrap());
    let error = bot.get_me().await.unwrap_err();
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(error.is_transient());
    assert_no_token(&error);
}

/// A hostile or broken server that echoes the request path (token included) back in every
/// way it can: in a result of the wrong type, in an error description, in an HTML page, and
/// by redirecting elsewhere.
#[tokio::test]
async fn token_never_in_errors_from_a_server_echoing_the_url() {
    let stolen = Arc::new(Mutex::new(0usize));
    let thief = {
        let stolen = stolen.clone();
        Router::new().fallback(move || {
            let stolen = stolen.clone();
            async move {
                *stolen.lock().unwrap() += 1;
                Json(json!({"ok": true, "result": true}))
            }
        })
    };
    let thief_url = serve(thief).await;
    let echo = Router::new().fallback(move |uri: axum::http::Uri| {
        let thief_url = thief_url.clone();
        async move {
            let path = uri.path().to_owned();
            if path.ends_with("/getMe") {
                Json(json!({"ok": true, "result": path})).into_response()
            } else if path.ends_with("/getWebhookInfo") {
                (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"ok": false, "error_code": 400, "description": format!("Bad Request: {path}")})),
                )
                    .into_response()
            } else if path.ends_with("/deleteWebhook") {
                Redirect::temporary(&format!("{thief_url}{path}")).into_response()
            } else {
                (StatusCode::NOT_FOUND, Html(format!("<h1>No {path}</h1>"))).into_response()
            }
        }
    });
    let echo_url = serve(echo).await;
    let bot = bot_for(&echo_url, TOKEN);

    let decode = bot.get_me().await.unwrap_err();
    assert!(matches!(decode, TelegramError::Decode(_)), "{decode:?}");
    assert_no_token(&decode);

    let api = bot.get_webhook_info().await.unwrap_err();
    assert!(
        matches!(api, TelegramError::Api { code: 400, .. }),
        "{api:?}"
    );
    assert_no_token(&api);

    let redirected = bot.delete_webhook(false).await.unwrap_err();
    assert!(
        matches!(redirected, TelegramError::Api { code: 307, .. }),
        "{redirected:?}"
    );
    assert_no_token(&redirected);
    assert_eq!(*stolen.lock().unwrap(), 0, "the redirect was followed");

    let page = bot.download_file("photos/file_1.jpg").await.unwrap_err();
    assert!(
        matches!(page, TelegramError::Api { code: 404, .. }),
        "{page:?}"
    );
    assert_no_token(&page);
}

/// Everything the client logs, at every level, while calls succeed and fail.
#[tokio::test]
async fn token_never_in_log_lines() {
    let captured = capture_logs();

    let fake = FakeTelegram::with_bot().await;
    let file_id = fake.put_file("photos/file_1.jpg", vec![1, 2, 3]);
    let bot = bot(&fake);
    bot.get_me().await.unwrap();
    let path = bot.get_file(&file_id).await.unwrap().file_path.unwrap();
    bot.download_file(&path).await.unwrap();
    fake.fail("sendMessage", Failure::too_many_requests(3));
    bot.send_message(&SendMessage::new(CHAT, "hi"))
        .await
        .unwrap_err();
    fake.revoke(TOKEN);
    bot.get_me().await.unwrap_err();

    let logs = captured.text();
    assert!(
        logs.contains("telegram call failed"),
        "nothing captured: {logs}"
    );
    assert!(logs.contains(&format!("bot={BOT_ID}")), "{logs}");
    assert!(!logs.contains(secret_of(TOKEN)), "token leaked: {logs}");
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[test]
fn the_fake_tokens_are_real_token_shapes() {
    for token in [TOKEN, OTHER_TOKEN] {
        BotToken::parse(token).unwrap();
    }
    assert_eq!(BotToken::parse(TOKEN).unwrap().bot_id(), BOT_ID);
}
