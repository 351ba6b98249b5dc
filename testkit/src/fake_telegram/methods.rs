//! What the methods with effects do to the fake's state: `setWebhook`, sending (text, media,
//! media groups, with Telegram's length and HTML checks), edits, and the messages and files
//! each bot keeps.

use super::*;

pub(super) fn set_webhook(s: &mut FakeTelegramState, token: &str, params: &Value) -> Response {
    let url = string(params, "url").unwrap_or_default();
    let bot = s.bots.get_mut(token).unwrap();
    if url.is_empty() {
        bot.webhook = None;
        return ok_described(json!(true), "Webhook was deleted");
    }
    let Ok(parsed) = url::Url::parse(&url) else {
        return bad_request(
            "Bad Request: bad webhook: Failed to resolve host: Name or service not known",
        );
    };
    if parsed.scheme() != "https" {
        return bad_request("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    }
    if !matches!(parsed.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
        return bad_request(
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        );
    }
    let secret = string(params, "secret_token");
    if let Some(secret) = &secret {
        let fine = (1..=256).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !fine {
            return bad_request("Bad Request: secret token contains unallowed characters");
        }
    }
    // Telegram keeps the previous list when none is given.
    let allowed_updates = match params.get("allowed_updates") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => bot
            .webhook
            .as_ref()
            .map(|w| w.allowed_updates.clone())
            .unwrap_or_default(),
    };
    let webhook = Webhook {
        url,
        secret_token: secret,
        allowed_updates,
        max_connections: int(params, "max_connections").map_or(40, |n| n as u32),
    };
    let same = bot.webhook.as_ref() == Some(&webhook);
    bot.webhook = Some(webhook);
    ok_described(
        json!(true),
        if same {
            "Webhook is already set"
        } else {
            "Webhook was set"
        },
    )
}

pub(super) fn send(
    s: &mut FakeTelegramState,
    token: &str,
    bot: &FakeBot,
    method: &str,
    params: &Value,
    files: &[UploadedFile],
    field: Option<&str>,
) -> Response {
    let Some(chat_id) = int(params, "chat_id") else {
        return bad_request("Bad Request: chat_id is empty");
    };
    if s.blocked_chats.contains(&chat_id) {
        return api_error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
            None,
        );
    }
    let mut content = Map::new();
    let mut file_ids = Vec::new();
    let text = string(params, "text");
    let caption = string(params, "caption");
    let html = string(params, "parse_mode").is_some_and(|m| m.eq_ignore_ascii_case("html"));
    if let Some(error) = [&text, &caption]
        .into_iter()
        .flatten()
        .find_map(|t| html.then(|| html_error(t)).flatten())
    {
        return bad_request(&format!("Bad Request: can't parse entities: {error}"));
    }
    match field {
        None => match &text {
            None => return bad_request("Bad Request: message text is empty"),
            Some(t) if t.trim().is_empty() => {
                return bad_request("Bad Request: message text is empty")
            }
            Some(t) if shown_len(t, html) > 4096 => {
                return bad_request("Bad Request: message is too long")
            }
            Some(t) => {
                content.insert("text".into(), json!(t));
            }
        },
        Some(field) => {
            if caption.as_ref().is_some_and(|c| shown_len(c, html) > 1024) {
                return bad_request("Bad Request: message caption is too long");
            }
            let Some(file) = input_file(s, params.get(field), files, field) else {
                return bad_request(&format!("Bad Request: there is no {field} in the request"));
            };
            file_ids.push(file.file_id.clone());
            content.insert(field.into(), media_json(field, &file));
            if let Some(c) = &caption {
                content.insert("caption".into(), json!(c));
            }
        }
    }
    let reply = match reply_of(s, token, chat_id, params) {
        Ok(reply) => reply,
        Err(description) => return bad_request(description),
    };
    let message = store_message(
        s, token, bot, method, chat_id, params, content, reply, text, caption, file_ids,
    );
    ok(message)
}

/// Telegram's limits count the text shown: with HTML, without tags and with entities decoded.
pub(super) fn shown_len(text: &str, html: bool) -> usize {
    if !html {
        return text.chars().count();
    }
    let mut shown = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => shown.push(c),
            _ => {}
        }
    }
    shown
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .chars()
        .count()
}

/// Why Telegram would refuse `text` as HTML: a `<` that opens no supported tag, or a `&` that
/// starts no entity (so unescaped user text is caught).
pub(super) fn html_error(text: &str) -> Option<String> {
    const TAGS: &str =
        "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote";
    for (at, c) in text.char_indices() {
        let rest = &text[at..];
        if c == '<' {
            let name: String = rest[1..]
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !TAGS.split(' ').any(|t| t == name) || !rest.contains('>') {
                return Some(format!(
                    "Unsupported start tag \"{name}\" at byte offset {at}"
                ));
            }
        } else if c == '&' {
            let entity = ["&lt;", "&gt;", "&amp;", "&quot;", "&#"]
                .iter()
                .any(|e| rest.starts_with(e));
            if !entity {
                return Some(format!(
                    "Can't find end of the entity starting at byte offset {at}"
                ));
            }
        }
    }
    None
}

pub(super) fn send_media_group(
    s: &mut FakeTelegramState,
    token: &str,
    bot: &FakeBot,
    params: &Value,
    files: &[UploadedFile],
) -> Response {
    let Some(chat_id) = int(params, "chat_id") else {
        return bad_request("Bad Request: chat_id is empty");
    };
    if s.blocked_chats.contains(&chat_id) {
        return api_error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
            None,
        );
    }
    let Some(items) = params.get("media").and_then(Value::as_array).cloned() else {
        return bad_request("Bad Request: can't parse media JSON object");
    };
    if !(2..=10).contains(&items.len()) {
        return bad_request("Bad Request: media must include 2-10 items");
    }
    let reply = match reply_of(s, token, chat_id, params) {
        Ok(reply) => reply,
        Err(description) => return bad_request(description),
    };
    let group_id = format!("group-{}", s.next_message_id);
    let mut answers = Vec::new();
    for item in items {
        let kind = item["type"].as_str().unwrap_or("").to_owned();
        if !matches!(kind.as_str(), "photo" | "video" | "document" | "audio") {
            return bad_request("Bad Request: unsupported media type");
        }
        let Some(file) = input_file(s, item.get("media"), files, "") else {
            return bad_request("Bad Request: wrong file identifier/HTTP URL specified");
        };
        let caption = item
            .get("caption")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut content = Map::new();
        content.insert(kind.clone(), media_json(&kind, &file));
        content.insert("media_group_id".into(), json!(group_id));
        if let Some(c) = &caption {
            content.insert("caption".into(), json!(c));
        }
        answers.push(store_message(
            s,
            token,
            bot,
            "sendMediaGroup",
            chat_id,
            &item,
            content,
            reply.clone(),
            None,
            caption,
            vec![file.file_id.clone()],
        ));
    }
    ok(Value::Array(answers))
}

pub(super) fn edit(s: &mut FakeTelegramState, token: &str, params: &Value, what: &str) -> Response {
    let (Some(chat_id), Some(message_id)) = (int(params, "chat_id"), int(params, "message_id"))
    else {
        return bad_request("Bad Request: message identifier is not specified");
    };
    let Some(index) = find_message(s, token, chat_id, message_id) else {
        return bad_request("Bad Request: message to edit not found");
    };
    let new = string(params, what);
    let message = &mut s.messages[index];
    let current = if what == "text" {
        if message.text.is_none() {
            return bad_request("Bad Request: there is no text in the message to edit");
        }
        &mut message.text
    } else {
        if message.file_ids.is_empty() {
            return bad_request("Bad Request: there is no caption in the message to edit");
        }
        &mut message.caption
    };
    if what == "text" && new.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return bad_request("Bad Request: message text is empty");
    }
    if *current == new {
        return bad_request("Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
    }
    *current = new.clone();
    message.edited = true;
    match new {
        Some(value) => message.json[what] = json!(value),
        None => {
            message.json.as_object_mut().unwrap().remove(what);
        }
    }
    message.json["edit_date"] = json!(now());
    ok(message.json.clone())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn store_message(
    s: &mut FakeTelegramState,
    token: &str,
    bot: &FakeBot,
    method: &str,
    chat_id: i64,
    params: &Value,
    content: Map<String, Value>,
    reply: Option<Value>,
    text: Option<String>,
    caption: Option<String>,
    file_ids: Vec<String>,
) -> Value {
    let message_id = s.next_message_id;
    s.next_message_id += 1;
    let mut message = json!({
        "message_id": message_id,
        "from": bot_user(bot, false),
        "chat": chat_json(chat_id),
        "date": now(),
    });
    message.as_object_mut().unwrap().extend(content);
    if let Some(reply) = reply {
        message["reply_to_message"] = reply;
    }
    s.messages.push(SentMessage {
        token: token.to_owned(),
        method: method.to_owned(),
        chat_id,
        message_id,
        text,
        caption,
        file_ids,
        params: params.clone(),
        json: message.clone(),
        edited: false,
        deleted: false,
    });
    message
}

/// The replied-to message for the answer, or Telegram's error description when it is unknown
/// and the request did not allow sending without it.
pub(super) fn reply_of(
    s: &FakeTelegramState,
    token: &str,
    chat_id: i64,
    params: &Value,
) -> Result<Option<Value>, &'static str> {
    let reply = match params.get("reply_parameters") {
        Some(Value::Object(reply)) => reply.clone(),
        _ => return Ok(None),
    };
    let Some(message_id) = reply.get("message_id").and_then(Value::as_i64) else {
        return Err("Bad Request: message to be replied not found");
    };
    if let Some(index) = find_message(s, token, chat_id, message_id) {
        return Ok(Some(s.messages[index].json.clone()));
    }
    if s.known_messages.contains(&(chat_id, message_id)) {
        return Ok(Some(json!({
            "message_id": message_id, "chat": chat_json(chat_id), "date": now(),
        })));
    }
    if reply.get("allow_sending_without_reply") == Some(&json!(true)) {
        Ok(None)
    } else {
        Err("Bad Request: message to be replied not found")
    }
}

/// The file a send names: an uploaded part (under the field's name or `attach://name`), a
/// known file id, or a URL (kept as an empty file).
pub(super) fn input_file(
    s: &mut FakeTelegramState,
    value: Option<&Value>,
    files: &[UploadedFile],
    field: &str,
) -> Option<StoredFile> {
    let upload = match value.and_then(Value::as_str) {
        Some(reference) if reference.starts_with("attach://") => {
            let name = &reference["attach://".len()..];
            Some(files.iter().find(|f| f.field == name)?)
        }
        Some(_) => None,
        None => files.iter().find(|f| f.field == field),
    };
    if let Some(upload) = upload {
        let n = s.next_file;
        s.next_file += 1;
        let name = upload.file_name.clone().unwrap_or_else(|| "file".into());
        let stored = StoredFile {
            file_id: format!("fake-file-{n}"),
            path: format!("uploads/file_{n}_{name}"),
            bytes: upload.bytes.clone(),
        };
        s.files.push(stored.clone());
        return Some(stored);
    }
    let reference = value?.as_str()?.to_owned();
    if let Some(known) = s.files.iter().find(|f| f.file_id == reference) {
        return Some(known.clone());
    }
    if reference.starts_with("http://") || reference.starts_with("https://") {
        let n = s.next_file;
        s.next_file += 1;
        let stored = StoredFile {
            file_id: format!("fake-file-{n}"),
            path: format!("from-url/file_{n}"),
            bytes: Vec::new(),
        };
        s.files.push(stored.clone());
        return Some(stored);
    }
    None
}

pub(super) fn media_json(kind: &str, file: &StoredFile) -> Value {
    let base = json!({
        "file_id": file.file_id,
        "file_unique_id": format!("u-{}", file.file_id),
        "file_size": file.bytes.len(),
    });
    if kind == "photo" {
        let mut size = base;
        size["width"] = json!(800);
        size["height"] = json!(600);
        json!([size])
    } else {
        base
    }
}

pub(super) fn find_message(
    s: &FakeTelegramState,
    token: &str,
    chat_id: i64,
    message_id: i64,
) -> Option<usize> {
    s.messages.iter().position(|m| {
        m.token == token && m.chat_id == chat_id && m.message_id == message_id && !m.deleted
    })
}
