//! MAX's side of the webhook: `Update` JSON as the schema shapes it (discriminated by
//! `update_type`, `timestamp` in Unix milliseconds), and [`deliver`], which posts one with
//! the subscription's secret in `X-Max-Bot-Api-Secret`.
//!
//! The messages are dialogs with the bot `BOT_ID` (`recipient.chat_type` "dialog").
//! Attachments go on with [`with_attachment`], a reply with [`with_reply`]; inbound media
//! need a real URL, which `FakeMax::put_file` gives.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{json, Value};

use super::{now_ms, BOT_ID};

/// `seq` of inbound messages: increasing, as in a chat.
static SEQ: AtomicI64 = AtomicI64::new(115_000_000_000_000_000);

/// A `User` (customer), `name` as the first name.
pub fn user(user_id: i64, name: &str, username: Option<&str>) -> Value {
    json!({
        "user_id": user_id, "first_name": name, "last_name": null, "name": name,
        "username": username, "is_bot": false, "last_activity_time": now_ms(),
    })
}

/// `message_created`: the user writes `text` (`None` for media only) in the dialog `chat_id`.
pub fn message_created(
    user_id: i64,
    name: &str,
    username: Option<&str>,
    chat_id: i64,
    mid: &str,
    text: Option<&str>,
) -> Value {
    json!({
        "update_type": "message_created",
        "timestamp": now_ms(),
        "message": message(user(user_id, name, username), chat_id, mid, text),
        "user_locale": "ru",
    })
}

/// `message_edited`: the message `mid` now reads `text`.
pub fn message_edited(
    user_id: i64,
    name: &str,
    username: Option<&str>,
    chat_id: i64,
    mid: &str,
    text: Option<&str>,
) -> Value {
    json!({
        "update_type": "message_edited",
        "timestamp": now_ms(),
        "message": message(user(user_id, name, username), chat_id, mid, text),
    })
}

/// `message_removed`: `user_id` deleted `message_id`.
pub fn message_removed(message_id: &str, chat_id: i64, user_id: i64) -> Value {
    json!({
        "update_type": "message_removed", "timestamp": now_ms(),
        "message_id": message_id, "chat_id": chat_id, "user_id": user_id,
    })
}

/// `bot_started`: `user` (see [`user`]) pressed Start, through a deep link with `payload`.
pub fn bot_started(chat_id: i64, user: Value, payload: Option<&str>) -> Value {
    json!({
        "update_type": "bot_started", "timestamp": now_ms(),
        "chat_id": chat_id, "user": user, "payload": payload, "user_locale": "ru",
    })
}

/// `bot_stopped`: `user` stopped the bot (sends to them are refused from now on).
pub fn bot_stopped(chat_id: i64, user: Value) -> Value {
    json!({
        "update_type": "bot_stopped", "timestamp": now_ms(),
        "chat_id": chat_id, "user": user, "user_locale": "ru",
    })
}

/// The update's message with one more attachment (see [`image`], [`file`], …).
pub fn with_attachment(mut update: Value, attachment: Value) -> Value {
    let attachments = &mut update["message"]["body"]["attachments"];
    if !attachments.is_array() {
        *attachments = json!([]);
    }
    attachments.as_array_mut().unwrap().push(attachment);
    update
}

/// The update's message as a reply (`link.type` "reply") to `mid`, which read `text`; the
/// replied-to message is the bot's, as when a customer answers an operator.
pub fn with_reply(mut update: Value, mid: &str, text: Option<&str>) -> Value {
    update["message"]["link"] = json!({
        "type": "reply",
        "sender": {
            "user_id": BOT_ID, "first_name": "Acme Shop", "last_name": null, "name": "Acme Shop",
            "username": super::BOT_USERNAME, "is_bot": true, "last_activity_time": now_ms(),
        },
        "chat_id": update["message"]["recipient"]["chat_id"],
        "message": { "mid": mid, "seq": next_seq(), "text": text, "attachments": null },
    });
    update
}

/// `PhotoAttachment`.
pub fn image(url: &str, token: &str, photo_id: i64) -> Value {
    json!({"type": "image", "payload": {"photo_id": photo_id, "token": token, "url": url}})
}

/// `FileAttachment`: `filename` and `size` beside the payload, as the schema puts them.
pub fn file(url: &str, token: &str, filename: &str, size: u64) -> Value {
    json!({
        "type": "file", "payload": {"url": url, "token": token},
        "filename": filename, "size": size,
    })
}

/// `AudioAttachment` (a voice message, too).
pub fn audio(url: &str, token: &str) -> Value {
    json!({"type": "audio", "payload": {"url": url, "token": token}, "transcription": null})
}

/// `VideoAttachment`. Its `payload.url` is not a direct link at MAX (that needs
/// `GET /videos/{token}`); here it is the URL given.
pub fn video(url: &str, token: &str, width: u32, height: u32, duration: u32) -> Value {
    json!({
        "type": "video", "payload": {"url": url, "token": token},
        "thumbnail": null, "width": width, "height": height, "duration": duration,
    })
}

/// `StickerAttachment`.
pub fn sticker(url: &str, code: &str) -> Value {
    json!({"type": "sticker", "payload": {"url": url, "code": code}, "width": 256, "height": 256})
}

/// `ContactAttachment`: a vCard with the name and phone; `max_info` when it is a MAX user.
pub fn contact(name: &str, phone: &str, max_info: Option<Value>) -> Value {
    let vcf = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nTEL;TYPE=cell:{phone}\r\nEND:VCARD\r\n"
    );
    json!({"type": "contact", "payload": {"vcf_info": vcf, "max_info": max_info}})
}

/// `LocationAttachment`.
pub fn location(latitude: f64, longitude: f64) -> Value {
    json!({"type": "location", "latitude": latitude, "longitude": longitude})
}

/// Posts `update` to the webhook `url` as MAX does, with `X-Max-Bot-Api-Secret: secret`
/// (left out when `secret` is empty, as for a subscription without one).
pub async fn deliver(url: &str, secret: &str, update: &Value) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(url).json(update);
    if !secret.is_empty() {
        request = request.header("X-Max-Bot-Api-Secret", secret);
    }
    request.send().await.expect("deliver the update")
}

/// A `Message` from `sender` in the dialog `chat_id` with the bot.
fn message(sender: Value, chat_id: i64, mid: &str, text: Option<&str>) -> Value {
    json!({
        "sender": sender,
        "recipient": {"chat_id": chat_id, "chat_type": "dialog", "user_id": BOT_ID},
        "timestamp": now_ms(),
        "link": null,
        "body": {"mid": mid, "seq": next_seq(), "text": text, "attachments": null, "markup": null},
        "stat": null,
        "url": null,
    })
}

fn next_seq() -> i64 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}
