//! Messages: send (and history), edit, delete, restore, ack, reads and reactions.

use super::*;

pub(super) async fn send_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    new_message(&state, &call, "channel", false)
}

pub(super) async fn send_history_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    new_message(&state, &call, "channel_id", true)
}

pub(super) fn new_message(
    state: &Shared,
    call: &Call,
    channel_field: &str,
    customer_required: bool,
) -> Response {
    let body = match body_of(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, channel_field) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return bad("'message' is required");
    };
    let Some(kind) = text(message, "type") else {
        return bad("'message.type' is required");
    };
    if !["text", "image", "file", "audio", "order", "product"].contains(&kind) {
        return bad(&format!("'message.type' has an unknown value {kind:?}"));
    }
    if (kind == "order" || kind == "product") && message.get(kind).is_none() {
        return bad(&format!("'message.{kind}' is required"));
    }
    let customer = body.get("customer").or_else(|| body.get("user"));
    if customer_required && customer.is_none() {
        return bad("'customer' is required");
    }
    if let Some(customer) = customer {
        for field in ["external_id", "nickname"] {
            if text(customer, field).is_none_or(str::is_empty) {
                return bad(&format!("'customer.{field}' is required"));
            }
        }
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    let external_id = text(message, "external_id")
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    if let Some(ext) = &external_id {
        if !s.message_keys.insert((channel, ext.clone())) {
            return bad(DUPLICATE);
        }
    }
    let id = s.next_message_id;
    s.next_message_id += 1;
    s.messages.push(FakeMessage {
        id,
        channel,
        external_id,
        external_chat_id: text(body, "external_chat_id")
            .unwrap_or_default()
            .to_owned(),
        customer_external_id: customer
            .and_then(|c| text(c, "external_id"))
            .map(str::to_owned),
        r#type: kind.to_owned(),
        text: text(message, "text").map(str::to_owned),
        deleted: false,
        read: false,
        reactions: Vec::new(),
        acked: false,
    });
    Json(json!({"message_id": id, "time": now_rfc3339()})).into_response()
}

/// The message named by `body.message` (`id` or `external_id`) in `channel`.
pub(super) fn find_message(s: &FakeMgState, channel: i64, body: &Value) -> Result<usize, Response> {
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return Err(bad("'message' is required"));
    };
    let id = message.get("id").and_then(Value::as_i64);
    let external_id = text(message, "external_id");
    if id.is_none() && external_id.is_none() {
        return Err(bad("'message.id' or 'message.external_id' is required"));
    }
    s.messages
        .iter()
        .position(|m| {
            m.channel == channel
                && (id.is_some_and(|id| m.id == id)
                    || external_id.is_some_and(|e| m.external_id.as_deref() == Some(e)))
        })
        .ok_or_else(|| bad("Message not found"))
}

/// Channel (named `field`) and message of a request, checked.
pub(super) fn locate(state: &Shared, call: &Call, field: &str) -> Result<(usize, i64), Response> {
    let body = body_of(call)?;
    let channel = int(body, field)?;
    let s = state.lock().unwrap();
    own_channel(&s, &call.token, channel)?;
    Ok((find_message(&s, channel, body)?, channel))
}

pub(super) fn message_json(m: &FakeMessage) -> Value {
    json!({
        "id": m.id, "message_id": m.id, "chat_id": 1, "time": now_rfc3339(), "type": m.r#type,
        "scope": "public", "status": if m.read { "seen" } else { "received" },
        "is_read": m.read, "is_edit": false, "content": m.text,
    })
}

pub(super) async fn edit_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(new_text) = call
        .body
        .as_ref()
        .and_then(|b| b["message"]["text"].as_str())
    else {
        return bad("'message.text' is required");
    };
    state.lock().unwrap().messages[index].text = Some(new_text.to_owned());
    Json(json!({})).into_response()
}

pub(super) async fn delete_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut s = state.lock().unwrap();
    s.messages[index].deleted = true;
    Json(message_json(&s.messages[index])).into_response()
}

pub(super) async fn restore_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel_id") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut s = state.lock().unwrap();
    s.messages[index].deleted = false;
    Json(message_json(&s.messages[index])).into_response()
}

pub(super) async fn ack_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, "channel") {
        Ok(c) => c,
        Err(r) => return r,
    };
    if body.get("message").is_none() && body.get("external_message_id").is_none() {
        return bad("'message' is required");
    }
    if let Some(code) = body.get("error").map(|e| &e["code"]) {
        let known = [
            "general",
            "customer_not_exists",
            "reply_timed_out",
            "spam_suspicion",
            "access_restricted",
        ];
        if !code.as_str().is_some_and(|c| known.contains(&c)) {
            return bad("'error.code' has an unknown value");
        }
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    // Acks name operators' messages, which this fake does not keep: accept any.
    if let Ok(index) = find_message(&s, channel, body) {
        s.messages[index].acked = true;
    }
    Json(json!({})).into_response()
}

pub(super) async fn mark_read(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, "channel_id") {
        Ok(c) => c,
        Err(r) => return r,
    };
    if body.get("message").is_none() {
        return bad("'message' is required");
    }
    let s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    Json(json!({})).into_response()
}

pub(super) async fn mark_read_until(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, "channel_id") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(customer) = text(body, "customer_external_id") else {
        return bad("'customer_external_id' is required");
    };
    if text(body, "until").is_none() {
        return bad("'until' is required");
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    let mut ids = Vec::new();
    for m in s.messages.iter_mut().filter(|m| {
        m.channel == channel && m.customer_external_id.as_deref() == Some(customer) && !m.read
    }) {
        m.read = true;
        ids.push(m.id);
    }
    Json(json!({ "ids": ids })).into_response()
}

pub(super) async fn add_reaction(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(reaction) = call.body.as_ref().and_then(|b| text(b, "reaction")) else {
        return bad("'reaction' is required");
    };
    state.lock().unwrap().messages[index]
        .reactions
        .push(reaction.to_owned());
    // MG's first client's tests answer this one with an empty body.
    StatusCode::OK.into_response()
}

pub(super) async fn delete_reaction(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let reaction = call.body.as_ref().and_then(|b| text(b, "reaction"));
    let mut s = state.lock().unwrap();
    let reactions = &mut s.messages[index].reactions;
    let position = match reaction {
        Some(r) => reactions.iter().position(|x| x == r),
        None => (!reactions.is_empty()).then_some(0),
    };
    if let Some(p) = position {
        reactions.remove(p);
    }
    Json(json!({})).into_response()
}
