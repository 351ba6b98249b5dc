//! Serving: one handler for every `/bot{token}/{method}` and `/file/bot{token}/{path}` call
//! (token check, injected failures, parameters read as Telegram reads them, the record), the
//! answer each method gets, and the Bot API's answer shapes.

use super::*;

pub(super) enum Target {
    Method(String),
    File(String),
}

pub(super) async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let (token, target) = if let Some(rest) = path.strip_prefix("/file/bot") {
        match rest.split_once('/') {
            Some((token, file)) => (token.to_owned(), Target::File(file.to_owned())),
            None => return not_found(),
        }
    } else if let Some(rest) = path.strip_prefix("/bot") {
        match rest.split_once('/') {
            Some((token, method)) if !method.is_empty() && !method.contains('/') => {
                (token.to_owned(), Target::Method(method.to_owned()))
            }
            _ => return not_found(),
        }
    } else {
        return not_found();
    };

    let http_method = request.method().clone();
    let (params, files) = match read_params(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let method = match &target {
        Target::Method(method) => method.clone(),
        Target::File(file) => format!("file/{file}"),
    };
    let (known, failure) = {
        let mut s = state.lock().unwrap();
        s.calls.push(Call {
            token: token.clone(),
            http_method,
            method: method.clone(),
            params: params.clone(),
            files: files.clone(),
            at,
        });
        let known = s.bots.contains_key(&token);
        (known, take_failure(&mut s, &target))
    };
    if !known {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    match failure {
        Some(Failure::Api {
            code,
            description,
            retry_after,
            migrate_to_chat_id,
        }) => {
            let mut parameters = Map::new();
            if let Some(secs) = retry_after {
                parameters.insert("retry_after".into(), json!(secs));
            }
            if let Some(id) = migrate_to_chat_id {
                parameters.insert("migrate_to_chat_id".into(), json!(id));
            }
            let status = StatusCode::from_u16(code).unwrap();
            return api_error(
                status,
                &description,
                (!parameters.is_empty()).then_some(Value::Object(parameters)),
            );
        }
        Some(Failure::Down) => {
            return (
                StatusCode::BAD_GATEWAY,
                Html("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.18.0</center></body></html>"),
            )
                .into_response();
        }
        Some(Failure::NotJson) => {
            return Html("<html><body>Welcome to nginx!</body></html>").into_response();
        }
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let mut s = state.lock().unwrap();
    match target {
        Target::File(file) => serve_file(&s, &file),
        Target::Method(method) => answer(&mut s, &token, &method, &params, &files),
    }
}

pub(super) fn take_failure(state: &mut FakeTelegramState, target: &Target) -> Option<Failure> {
    let name = match target {
        Target::Method(method) => method.to_ascii_lowercase(),
        Target::File(_) => "file".to_owned(),
    };
    let index = state
        .rules
        .iter()
        .position(|rule| rule.method == "*" || rule.method == name)?;
    let rule = &mut state.rules[index];
    let failure = rule.failure.clone();
    if let Some(remaining) = &mut rule.remaining {
        *remaining -= 1;
        if *remaining == 0 {
            state.rules.remove(index);
        }
    }
    Some(failure)
}

pub(super) async fn read_params(request: Request) -> Result<(Value, Vec<UploadedFile>), Response> {
    let mut params = Map::new();
    if let Some(query) = request.uri().query() {
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(key.into_owned(), form_value(&value));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut files = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| bad_request("Bad Request: can't parse multipart body"))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| bad_request("Bad Request: can't parse multipart body"))?
        {
            let name = field.name().unwrap_or("").to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let part_type = field.content_type().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad_request("Bad Request: can't parse multipart body"))?;
            if file_name.is_some() {
                files.push(UploadedFile {
                    field: name,
                    file_name,
                    content_type: part_type,
                    bytes: bytes.to_vec(),
                });
            } else {
                params.insert(name, form_value(&String::from_utf8_lossy(&bytes)));
            }
        }
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), 60 * 1024 * 1024)
            .await
            .map_err(|_| bad_request("Bad Request: can't read body"))?;
        if content_type.starts_with("application/json") {
            if !bytes.is_empty() {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(map)) => params.extend(map),
                    _ => return Err(bad_request("Bad Request: can't parse JSON object")),
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            for (key, value) in url::form_urlencoded::parse(&bytes) {
                params.insert(key.into_owned(), form_value(&value));
            }
        }
    }
    Ok((Value::Object(params), files))
}

/// A form field: a JSON array or object is recorded parsed, anything else as the string.
pub(super) fn form_value(text: &str) -> Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        if let Ok(value) = serde_json::from_str(text) {
            return value;
        }
    }
    Value::String(text.to_owned())
}

pub(super) fn answer(
    s: &mut FakeTelegramState,
    token: &str,
    method: &str,
    params: &Value,
    files: &[UploadedFile],
) -> Response {
    let bot = s.bots[token].clone();
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(bot_user(&bot, true)),
        "setwebhook" => set_webhook(s, token, params),
        "deletewebhook" => {
            let had = s.bots.get_mut(token).unwrap().webhook.take().is_some();
            ok_described(
                json!(true),
                if had {
                    "Webhook was deleted"
                } else {
                    "Webhook is already deleted"
                },
            )
        }
        "getwebhookinfo" => ok(match (&bot.webhook, &bot.webhook_trouble) {
            (Some(w), None) => json!({
                "url": w.url, "has_custom_certificate": false, "pending_update_count": 0,
                "max_connections": w.max_connections, "ip_address": "149.154.167.220",
                "allowed_updates": w.allowed_updates,
            }),
            (Some(w), Some((date, message, pending))) => json!({
                "url": w.url, "has_custom_certificate": false, "pending_update_count": pending,
                "max_connections": w.max_connections, "ip_address": "149.154.167.220",
                "allowed_updates": w.allowed_updates,
                "last_error_date": date, "last_error_message": message,
            }),
            (None, _) => {
                json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})
            }
        }),
        "sendmessage" => send(s, token, &bot, method, params, files, None),
        "sendphoto" => send(s, token, &bot, method, params, files, Some("photo")),
        "senddocument" => send(s, token, &bot, method, params, files, Some("document")),
        "sendaudio" => send(s, token, &bot, method, params, files, Some("audio")),
        "sendvoice" => send(s, token, &bot, method, params, files, Some("voice")),
        "sendvideo" => send(s, token, &bot, method, params, files, Some("video")),
        "sendanimation" => send(s, token, &bot, method, params, files, Some("animation")),
        "sendmediagroup" => send_media_group(s, token, &bot, params, files),
        "editmessagetext" => edit(s, token, params, "text"),
        "editmessagecaption" => edit(s, token, params, "caption"),
        "deletemessage" => {
            let (Some(chat_id), Some(message_id)) =
                (int(params, "chat_id"), int(params, "message_id"))
            else {
                return bad_request("Bad Request: message identifier is not specified");
            };
            match find_message(s, token, chat_id, message_id) {
                Some(index) => {
                    s.messages[index].deleted = true;
                    ok(json!(true))
                }
                None => bad_request("Bad Request: message to delete not found"),
            }
        }
        "setmessagereaction" => {
            let (Some(chat_id), Some(message_id)) =
                (int(params, "chat_id"), int(params, "message_id"))
            else {
                return bad_request("Bad Request: message identifier is not specified");
            };
            let reaction = params.get("reaction").cloned().unwrap_or(json!([]));
            if reaction.as_array().is_some_and(|r| r.len() > 1) {
                return bad_request("Bad Request: REACTIONS_TOO_MANY");
            }
            s.reactions.push(Reaction {
                token: token.to_owned(),
                chat_id,
                message_id,
                reaction,
            });
            ok(json!(true))
        }
        "getuserprofilephotos" => {
            let Some(user_id) = int(params, "user_id") else {
                return bad_request("Bad Request: user_id is empty");
            };
            let photos: Vec<Value> = s
                .profile_photos
                .get(&user_id)
                .map(|sizes| {
                    let sizes = sizes
                        .iter()
                        .map(|(side, file_id)| {
                            let size = s.files.iter().find(|f| &f.file_id == file_id);
                            json!({
                                "file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                                "width": side, "height": side,
                                "file_size": size.map_or(0, |f| f.bytes.len()),
                            })
                        })
                        .collect();
                    vec![Value::Array(sizes)]
                })
                .unwrap_or_default();
            ok(json!({"total_count": photos.len(), "photos": photos}))
        }
        "getfile" => {
            let id = string(params, "file_id").unwrap_or_default();
            match s.files.iter().find(|f| f.file_id == id) {
                Some(file) => ok(json!({
                    "file_id": file.file_id, "file_unique_id": format!("u-{}", file.file_id),
                    "file_size": file.bytes.len(), "file_path": file.path,
                })),
                None => bad_request("Bad Request: invalid file_id"),
            }
        }
        _ => api_error(StatusCode::NOT_FOUND, "Not Found", None),
    }
}

pub(super) fn serve_file(s: &FakeTelegramState, path: &str) -> Response {
    match s.files.iter().find(|f| f.path == path) {
        Some(file) => Response::builder()
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, file.bytes.len())
            .body(Body::from(file.bytes.clone()))
            .unwrap(),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", None),
    }
}

pub(super) fn bot_user(bot: &FakeBot, get_me: bool) -> Value {
    let mut user = json!({
        "id": bot.id, "is_bot": true, "first_name": "Acme Shop", "username": bot.username,
    });
    if get_me {
        user["can_join_groups"] = json!(true);
        user["can_read_all_group_messages"] = json!(false);
        user["supports_inline_queries"] = json!(false);
    }
    user
}

/// Private chats have the user's (positive) id; `-100…` are supergroups, other negatives groups.
pub(super) fn chat_json(chat_id: i64) -> Value {
    if chat_id > 0 {
        json!({"id": chat_id, "type": "private", "first_name": "Customer"})
    } else if chat_id.to_string().starts_with("-100") {
        json!({"id": chat_id, "type": "supergroup", "title": "Support group"})
    } else {
        json!({"id": chat_id, "type": "group", "title": "Small group"})
    }
}

pub(super) fn int(params: &Value, key: &str) -> Option<i64> {
    match params.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn string(params: &Value, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(super) fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

pub(super) fn ok_described(result: Value, description: &str) -> Response {
    Json(json!({"ok": true, "result": result, "description": description})).into_response()
}

pub(super) fn api_error(
    status: StatusCode,
    description: &str,
    parameters: Option<Value>,
) -> Response {
    let mut body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (status, Json(body)).into_response()
}

pub(super) fn bad_request(description: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, description, None)
}

pub(super) fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Not Found", None)
}
