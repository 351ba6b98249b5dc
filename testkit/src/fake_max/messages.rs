//! `/messages`: send (`NewMessageBody` → `SendMessageResult`), edit, delete and get, with
//! the schema's checks (text ≤ 4000 characters, `format`, known upload tokens, `link`) and
//! MAX's refusals (a stopped dialog, a file still being processed).

use super::serving::Incoming;
use super::uploads::{token_state, TokenState};
use super::*;

const MAX_TEXT: usize = 4000;

/// A `NewMessageBody` read and checked. For edits, `None` leaves a field as it is.
struct Content {
    text: Option<Option<String>>,
    format: Option<String>,
    /// (as requested, as the message shows it)
    attachments: Option<Vec<(Value, Value)>>,
    notify: bool,
    has_media: bool,
}

pub(super) fn send(s: &mut FakeMaxState, request: &Incoming) -> Response {
    let (user_id, chat_id) = match (int_param(request, "user_id"), int_param(request, "chat_id")) {
        (Ok(user_id), Ok(chat_id)) => (user_id, chat_id),
        _ => return bad_request("Parameters `user_id` and `chat_id` must be integers"),
    };
    if user_id.is_some() == chat_id.is_some() {
        return bad_request("Exactly one of `user_id` and `chat_id` is required");
    }
    let dialog_user = user_id.or_else(|| {
        s.dialogs
            .iter()
            .find(|(_, chat)| Some(**chat) == chat_id)
            .map(|(user, _)| *user)
    });
    // The schema's Forbidden response names no code; this is what MAX answers for a dialog
    // the user stopped (`Chat.status` "suspended").
    if dialog_user.is_some_and(|user| s.blocked_users.contains(&user)) {
        return error(
            StatusCode::FORBIDDEN,
            "chat.denied",
            "chat.denied: dialog.suspended",
        );
    }
    let Some(body) = request.body.and_then(Value::as_object) else {
        return bad_request("Request body must be NewMessageBody");
    };
    let content = match read_content(s, request.token, body) {
        Ok(content) => content,
        Err(refusal) => return refusal.into_response(),
    };
    let link = match read_link(s, request.token, body.get("link")) {
        Ok(link) => link,
        Err(refusal) => return refusal.into_response(),
    };
    let text = content.text.flatten();
    let attachments = content.attachments.unwrap_or_default();
    let forwards = link.as_ref().is_some_and(|(l, _)| l["type"] == "forward");
    if text.as_deref().is_none_or(str::is_empty) && attachments.is_empty() && !forwards {
        return bad_request("Message must have `text`, `attachments` or a forward `link`");
    }
    if content.has_media && s.not_ready > 0 {
        s.not_ready -= 1;
        return not_ready().into_response();
    }

    let n = s.next;
    s.next += 1;
    let bot = &s.bots[request.token];
    let mid = format!("mid.{:016x}{n:016x}", bot.id as u64);
    let recipient = match user_id {
        Some(user) => json!({
            "chat_id": s.dialogs.get(&user), "chat_type": "dialog", "user_id": user,
        }),
        None if dialog_user.is_some() => json!({
            "chat_id": chat_id, "chat_type": "dialog", "user_id": dialog_user,
        }),
        None => json!({ "chat_id": chat_id, "chat_type": "chat", "user_id": null }),
    };
    let shown: Vec<&Value> = attachments.iter().map(|(_, shown)| shown).collect();
    let message = json!({
        "sender": bot_user(bot),
        "recipient": recipient,
        "timestamp": now_ms(),
        "link": link.as_ref().map(|(_, linked)| linked),
        "body": {
            "mid": mid, "seq": n, "text": text,
            "attachments": (!shown.is_empty()).then_some(shown), "markup": null,
        },
        "stat": null,
        "url": null,
    });
    s.messages.push(SentMessage {
        token: request.token.to_owned(),
        mid,
        seq: n as i64,
        user_id,
        chat_id,
        text,
        format: content.format,
        attachments: attachments.into_iter().map(|(asked, _)| asked).collect(),
        link: link.map(|(asked, _)| asked),
        notify: content.notify,
        json: message.clone(),
        edited: false,
        deleted: false,
    });
    Json(json!({ "message": message })).into_response()
}

/// `PUT /messages?message_id=`: `text` and `attachments` replace what is there when given
/// (`attachments: []` removes them; absent or null keeps them, as the schema says).
pub(super) fn edit(s: &mut FakeMaxState, request: &Incoming) -> Response {
    let Some(index) = find(s, request.token, request.param("message_id")) else {
        return message_not_found();
    };
    let Some(body) = request.body.and_then(Value::as_object) else {
        return bad_request("Request body must be NewMessageBody");
    };
    let content = match read_content(s, request.token, body) {
        Ok(content) => content,
        Err(refusal) => return refusal.into_response(),
    };
    let message = &mut s.messages[index];
    if let Some(text) = content.text {
        message.json["body"]["text"] = json!(text);
        message.text = text;
    }
    if let Some(attachments) = content.attachments {
        let shown: Vec<&Value> = attachments.iter().map(|(_, shown)| shown).collect();
        message.json["body"]["attachments"] = json!((!shown.is_empty()).then_some(shown));
        message.attachments = attachments.into_iter().map(|(asked, _)| asked).collect();
    }
    if content.format.is_some() {
        message.format = content.format;
    }
    message.edited = true;
    success()
}

pub(super) fn delete(s: &mut FakeMaxState, request: &Incoming) -> Response {
    let Some(index) = find(s, request.token, request.param("message_id")) else {
        return message_not_found();
    };
    s.messages[index].deleted = true;
    success()
}

pub(super) fn get(s: &FakeMaxState, token: &str, mid: &str) -> Response {
    match find(s, token, Some(mid)) {
        Some(index) => Json(s.messages[index].json.clone()).into_response(),
        None => message_not_found(),
    }
}

pub(super) fn bot_user(bot: &FakeBot) -> Value {
    json!({
        "user_id": bot.id, "first_name": "Acme Shop", "last_name": null, "name": "Acme Shop",
        "username": bot.username, "is_bot": true, "last_activity_time": now_ms(),
    })
}

fn read_content(
    s: &FakeMaxState,
    token: &str,
    body: &serde_json::Map<String, Value>,
) -> Result<Content, Refusal> {
    let text = match body.get("text") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(text)) if text.chars().count() > MAX_TEXT => {
            return Err(Refusal::bad_request(
                "text: size must be between 0 and 4000",
            ));
        }
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(_) => return Err(Refusal::bad_request("Field `text` must be a string")),
    };
    let format = match body.get("format") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) if f == "markdown" || f == "html" => Some(f.clone()),
        Some(_) => {
            return Err(Refusal::bad_request(
                "Field `format` must be markdown or html",
            ))
        }
    };
    let notify = match body.get("notify") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(notify)) => *notify,
        Some(_) => return Err(Refusal::bad_request("Field `notify` must be a boolean")),
    };
    let mut has_media = false;
    let attachments = match body.get("attachments") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut read = Vec::new();
            for item in items {
                let shown = attachment(s, token, item)?;
                has_media |= matches!(
                    item["type"].as_str(),
                    Some("image" | "video" | "audio" | "file")
                );
                read.push((item.clone(), shown));
            }
            Some(read)
        }
        Some(_) => return Err(Refusal::bad_request("Field `attachments` must be an array")),
    };
    Ok(Content {
        text,
        format,
        attachments,
        notify,
        has_media,
    })
}

/// An `AttachmentRequest` checked, and the `Attachment` the message shows for it.
fn attachment(s: &FakeMaxState, token: &str, item: &Value) -> Result<Value, Refusal> {
    let kind = item["type"].as_str().unwrap_or("");
    let payload = &item["payload"];
    match kind {
        "image" => {
            // `PhotoAttachmentRequestPayload`: `token`, `photos` or an external `url`.
            let token_of = |t: &Value| t.as_str().map(str::to_owned);
            let tokens: Vec<String> = match (&payload["token"], &payload["photos"]) {
                (Value::String(t), _) => vec![t.clone()],
                (_, Value::Object(photos)) => photos
                    .values()
                    .filter_map(|p| token_of(&p["token"]))
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(url) = payload["url"].as_str().filter(|_| tokens.is_empty()) {
                return Ok(json!({
                    "type": "image",
                    "payload": { "photo_id": 1, "token": "external", "url": url },
                }));
            }
            let Some(first) = tokens.first() else {
                return Err(Refusal::bad_request(
                    "image: payload needs token, photos or url",
                ));
            };
            let mut upload = None;
            for t in &tokens {
                upload = Some(uploaded(s, token, t, "image")?);
            }
            let upload = upload.unwrap();
            let photo_id = 1000
                + s.uploads
                    .iter()
                    .position(|u| std::ptr::eq(u, upload))
                    .unwrap();
            Ok(json!({
                "type": "image",
                "payload": { "photo_id": photo_id, "token": first, "url": upload.url },
            }))
        }
        "video" | "audio" | "file" => {
            let Some(t) = payload["token"].as_str() else {
                return Err(Refusal::bad_request(&format!(
                    "{kind}: payload.token is required"
                )));
            };
            let upload = uploaded(s, token, t, kind)?;
            let mut shown = json!({
                "type": kind, "payload": { "url": upload.url, "token": t },
            });
            if kind == "file" {
                shown["filename"] = json!(upload.file_name.as_deref().unwrap_or("file"));
                shown["size"] = json!(upload.bytes.len());
            }
            Ok(shown)
        }
        "sticker" => match payload["code"].as_str() {
            Some(code) => Ok(json!({
                "type": "sticker",
                "payload": { "url": format!("{}/files/sticker-{code}", s.base), "code": code },
                "width": 128, "height": 128,
            })),
            None => Err(Refusal::bad_request("sticker: payload.code is required")),
        },
        "contact" if payload.get("name").is_some() => Ok(json!({
            "type": "contact",
            "payload": { "vcf_info": payload.get("vcf_info"), "max_info": null },
        })),
        "inline_keyboard" | "reply_keyboard" => {
            let buttons = if kind == "inline_keyboard" {
                &payload["buttons"]
            } else {
                &item["buttons"]
            };
            if buttons.as_array().is_none_or(Vec::is_empty) {
                return Err(Refusal::bad_request(&format!(
                    "{kind}: buttons must not be empty"
                )));
            }
            Ok(item.clone())
        }
        "location" if item["latitude"].is_number() && item["longitude"].is_number() => {
            Ok(item.clone())
        }
        "share" if payload.is_object() => Ok(item.clone()),
        _ => Err(Refusal::bad_request(&format!(
            "Invalid attachment of type `{kind}`"
        ))),
    }
}

/// The upload behind an attachment token of the bot, of the attachment's type.
fn uploaded<'a>(
    s: &'a FakeMaxState,
    token: &str,
    attachment_token: &str,
    kind: &str,
) -> Result<&'a Upload, Refusal> {
    match token_state(s, token, attachment_token) {
        TokenState::Ready(upload) if upload.upload_type == kind => Ok(upload),
        TokenState::Pending => Err(not_ready()),
        _ => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "attachment.not.found",
            format!("No uploaded {kind} for this token"),
        )),
    }
}

/// `NewMessageLink` checked: `(as requested, the LinkedMessage shown)`. A `mid` neither sent
/// by the bot nor known (`know_message`) is refused as a bad request.
fn read_link(
    s: &FakeMaxState,
    token: &str,
    link: Option<&Value>,
) -> Result<Option<(Value, Value)>, Refusal> {
    let link = match link {
        None | Some(Value::Null) => return Ok(None),
        Some(link) => link,
    };
    let kind = link["type"].as_str().unwrap_or("");
    if kind != "reply" && kind != "forward" {
        return Err(Refusal::bad_request("link.type must be reply or forward"));
    }
    let Some(mid) = link["mid"].as_str() else {
        return Err(Refusal::bad_request("link.mid is required"));
    };
    let linked = if let Some(index) = find(s, token, Some(mid)) {
        let original = &s.messages[index].json;
        json!({
            "type": kind, "sender": original["sender"],
            "chat_id": original["recipient"]["chat_id"], "message": original["body"],
        })
    } else if s.known_mids.contains(mid) {
        json!({
            "type": kind,
            "message": { "mid": mid, "seq": 0, "text": null, "attachments": null },
        })
    } else {
        return Err(Refusal::bad_request("link.mid: message not found"));
    };
    Ok(Some((link.clone(), linked)))
}

fn find(s: &FakeMaxState, token: &str, mid: Option<&str>) -> Option<usize> {
    let mid = mid?;
    s.messages
        .iter()
        .position(|m| m.token == token && m.mid == mid && !m.deleted)
}

fn int_param(request: &Incoming, key: &str) -> Result<Option<i64>, ()> {
    request
        .param(key)
        .map(|v| v.trim().parse::<i64>().map_err(|_| ()))
        .transpose()
}

/// MAX's refusal of a file it is still processing (the official client retries this only).
fn not_ready() -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        "attachment.not.ready",
        "Key: errors.process.attachment.file.not.processed".into(),
    )
}

fn message_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not.found", "Message not found")
}
