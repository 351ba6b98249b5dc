//! Channels and their templates: `/channels`, `/channels/{id}`, `/channels/{id}/templates`,
//! `/templates`.

use super::*;

// ---- Channels ---------------------------------------------------------------------------

pub(super) async fn list_channels(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let s = state.lock().unwrap();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let types: Vec<&str> = query
        .iter()
        .filter(|(n, _)| n == "types")
        .map(|(_, v)| v.as_str())
        .collect();
    let active = get("active").map(|v| v == "true" || v == "1");
    let id = get("id").and_then(|v| v.parse::<i64>().ok());
    let limit = get("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(100);
    let list: Vec<Value> = s
        .channels
        .iter()
        .filter(|c| c.token == call.token)
        .filter(|c| active.is_none_or(|a| c.is_active == a))
        .filter(|c| id.is_none_or(|id| c.id == id))
        .filter(|c| types.is_empty() || types.contains(&c.r#type.as_str()))
        .take(limit)
        .map(channel_json)
        .collect();
    Json(list).into_response()
}

pub(super) async fn activate_channel(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    if let Err(r) = check_channel_fields(&body, true) {
        return r;
    }
    let mut s = state.lock().unwrap();
    let now = now_rfc3339();
    let requested = body.get("id").and_then(Value::as_i64).filter(|id| *id > 0);
    let index = match requested {
        Some(id) => match s
            .channels
            .iter()
            .position(|c| c.id == id && c.token == call.token)
        {
            Some(i) => i,
            None => return bad("Channel not found"),
        },
        None => {
            let id = s.next_channel_id;
            s.next_channel_id += 1;
            s.channels.push(FakeChannel {
                id,
                token: call.token.clone(),
                r#type: String::new(),
                name: None,
                external_id: None,
                avatar_url: None,
                settings: json!({}),
                is_active: false,
                created_at: now.clone(),
                activated_at: now.clone(),
                updated_at: None,
                deactivated_at: None,
                activations: 0,
            });
            s.channels.len() - 1
        }
    };
    let c = &mut s.channels[index];
    c.r#type = text(&body, "type").unwrap_or_default().to_owned();
    c.name = text(&body, "name").map(str::to_owned);
    c.external_id = text(&body, "external_id").map(str::to_owned);
    c.avatar_url = text(&body, "avatar_url").map(str::to_owned);
    c.settings = body.get("settings").cloned().unwrap_or_else(|| json!({}));
    c.is_active = true;
    c.activated_at = now.clone();
    c.deactivated_at = None;
    c.activations += 1;
    (
        StatusCode::CREATED,
        Json(json!({"id": c.id, "external_id": c.external_id, "activated_at": now})),
    )
        .into_response()
}

pub(super) async fn update_channel(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path(id): Path<i64>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    if let Err(r) = check_channel_fields(&body, false) {
        return r;
    }
    let mut s = state.lock().unwrap();
    let index = match own_channel(&s, &call.token, id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = now_rfc3339();
    let c = &mut s.channels[index];
    if let Some(t) = text(&body, "type") {
        c.r#type = t.to_owned();
    }
    if let Some(v) = text(&body, "name") {
        c.name = Some(v.to_owned());
    }
    if let Some(v) = text(&body, "external_id") {
        c.external_id = Some(v.to_owned());
    }
    if let Some(v) = text(&body, "avatar_url") {
        c.avatar_url = Some(v.to_owned());
    }
    if let Some(v) = body.get("settings") {
        c.settings = v.clone();
    }
    c.updated_at = Some(now.clone());
    Json(json!({"id": id, "external_id": c.external_id, "updated_at": now})).into_response()
}

pub(super) async fn deactivate_channel(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path(id): Path<i64>,
) -> Response {
    let mut s = state.lock().unwrap();
    let index = match own_channel(&s, &call.token, id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = now_rfc3339();
    let c = &mut s.channels[index];
    c.is_active = false;
    c.deactivated_at = Some(now.clone());
    Json(json!({"id": id, "deactivated_at": now})).into_response()
}

// ---- Templates ----------------------------------------------------------------------------

pub(super) async fn list_templates(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let s = state.lock().unwrap();
    let ours: Vec<i64> = s
        .channels
        .iter()
        .filter(|c| c.token == call.token)
        .map(|c| c.id)
        .collect();
    let list: Vec<Value> = s
        .templates
        .iter()
        .filter(|t| ours.contains(&t.channel))
        .enumerate()
        .map(|(i, t)| {
            let mut v = t.body.clone();
            v["id"] = json!(i + 1);
            v["channel_id"] = json!(t.channel);
            v["code"] = json!(t.code);
            v["enabled"] = json!(t.active);
            v
        })
        .collect();
    Json(list).into_response()
}

pub(super) async fn activate_template(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path(id): Path<i64>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    for field in ["code", "type", "name"] {
        if text(&body, field).is_none_or(str::is_empty) {
            return bad(&format!("'{field}' is required"));
        }
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, id) {
        return r;
    }
    let code = text(&body, "code").unwrap().to_owned();
    s.templates.retain(|t| !(t.channel == id && t.code == code));
    s.templates.push(FakeTemplate {
        channel: id,
        code,
        body,
        active: true,
    });
    (StatusCode::CREATED, Json(json!({}))).into_response()
}

pub(super) async fn update_template(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path((id, code)): Path<(i64, String)>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    if text(&body, "name").is_none_or(str::is_empty) {
        return bad("'name' is required");
    }
    let mut s = state.lock().unwrap();
    match s
        .templates
        .iter_mut()
        .find(|t| t.channel == id && t.code == code)
    {
        Some(t) => {
            if let (Some(old), Some(new)) = (t.body.as_object_mut(), body.as_object()) {
                old.extend(new.clone());
            }
            Json(json!({})).into_response()
        }
        None => bad("Template not found"),
    }
}

pub(super) async fn deactivate_template(
    State(state): State<Shared>,
    Path((id, code)): Path<(i64, String)>,
) -> Response {
    let mut s = state.lock().unwrap();
    match s
        .templates
        .iter_mut()
        .find(|t| t.channel == id && t.code == code)
    {
        Some(t) => {
            t.active = false;
            Json(json!({})).into_response()
        }
        None => bad("Template not found"),
    }
}
