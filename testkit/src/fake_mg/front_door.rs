//! The fake MG's front door (arrival time, token check, rate limit, injected answers, delay,
//! the record) and what every handler shares: MG's error answers and the checks of a body.

use super::*;

/// What MG answers with a failure status: an empty body for 5xx (as MG sometimes sends), its
/// error shape otherwise.
pub(super) fn error_body(status: u16) -> String {
    if status >= 500 {
        String::new()
    } else if status == 429 {
        r#"{"errors":["Too many requests"]}"#.to_owned()
    } else {
        r#"{"errors":["Injected failure"]}"#.to_owned()
    }
}

/// Arrival time, token check, rate limit, injected answers, delay, and the record.
pub(super) async fn front_door(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let at = Instant::now();
    let (mut parts, body) = request.into_parts();
    let token = parts
        .headers
        .get("x-transport-token")
        .and_then(|v| v.to_str().ok())
        .map(fingerprint);
    let raw = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed: Option<Value> = serde_json::from_slice(&raw).ok();
    let path = parts
        .uri
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or(parts.uri.path())
        .to_owned();

    let method = parts.method.clone();
    let query = parts.uri.query().map(str::to_owned);
    let (early, delay, index) = {
        let mut s = state.lock().unwrap();
        let early = match &token {
            None => Some((error(StatusCode::UNAUTHORIZED, "Token is missing"), false)),
            Some(fp) if s.refused_tokens.contains(fp) => {
                Some((error(StatusCode::UNAUTHORIZED, "Invalid token"), false))
            }
            Some(fp) => {
                let (limit, window, retry_after) = (s.rate_limit, s.rate_window, s.retry_after);
                let arrivals = s.admitted.entry(fp.clone()).or_default();
                while arrivals
                    .front()
                    .is_some_and(|t| at.duration_since(*t) >= window)
                {
                    arrivals.pop_front();
                }
                if limit.is_some_and(|limit| arrivals.len() >= limit as usize) {
                    let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
                    if let Some(seconds) = retry_after {
                        r.headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                    }
                    Some((r, true))
                } else {
                    arrivals.push_back(at);
                    let first = s
                        .injected
                        .iter()
                        .position(|i| i.path.as_deref().is_none_or(|p| p == path));
                    first
                        .and_then(|i| s.injected.remove(i))
                        .map(|i| (injected(i), false))
                }
            }
        };
        // Recorded on arrival (status 0 until answered), so a request whose caller gave up
        // is on record too.
        let record_bodies = s.record_bodies;
        s.requests.push(Recorded {
            method,
            path,
            query,
            token: token.clone(),
            content_type: content_type.clone(),
            body: if record_bodies { parsed.clone() } else { None },
            body_len: raw.len(),
            at,
            status: 0,
            rate_limited: early.as_ref().is_some_and(|(_, limited)| *limited),
        });
        (early.map(|(r, _)| r), s.delay, s.requests.len() - 1)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match early {
        Some(early) => early,
        None => {
            parts.extensions.insert(Call {
                token: token.unwrap_or_default(),
                body: parsed,
                raw,
                content_type,
            });
            next.run(Request::from_parts(parts, axum::body::Body::empty()))
                .await
        }
    };
    state.lock().unwrap().requests[index].status = response.status().as_u16();
    response
}

pub(super) fn injected(i: Injected) -> Response {
    let mut response = (
        StatusCode::from_u16(i.status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        i.body,
    )
        .into_response();
    if let Some(seconds) = i.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [message] }))).into_response()
}

pub(super) fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

pub(super) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

pub(super) fn int(body: &Value, field: &str) -> Result<i64, Response> {
    body.get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| bad(&format!("'{field}' is required")))
}

pub(super) fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

pub(super) fn body_of(call: &Call) -> Result<&Value, Response> {
    call.body
        .as_ref()
        .filter(|b| b.is_object())
        .ok_or_else(|| bad("The request body is not a JSON object"))
}

/// The caller's active channel `id`, or MG's error.
pub(super) fn own_channel(s: &FakeMgState, token: &str, id: i64) -> Result<usize, Response> {
    s.channels
        .iter()
        .position(|c| c.id == id && c.token == token && c.is_active)
        .ok_or_else(|| bad("Channel not found"))
}

pub(super) fn channel_json(c: &FakeChannel) -> Value {
    json!({
        "id": c.id, "external_id": c.external_id, "type": c.r#type, "name": c.name,
        "settings": c.settings, "is_active": c.is_active, "created_at": c.created_at,
        "activated_at": c.activated_at, "updated_at": c.updated_at,
        "deactivated_at": c.deactivated_at,
    })
}

pub(super) fn check_channel_fields(body: &Value, type_required: bool) -> Result<(), Response> {
    match text(body, "type") {
        Some(t) if CHANNEL_TYPES.contains(&t) => {}
        Some(t) => return Err(bad(&format!("'type' has an unknown value {t:?}"))),
        None if type_required => return Err(bad("'type' is required")),
        None => {}
    }
    if text(body, "name").is_some_and(|n| n.chars().count() > 100) {
        return Err(bad("'name' is longer than 100"));
    }
    if text(body, "external_id").is_some_and(|n| n.chars().count() > 64) {
        return Err(bad("'external_id' is longer than 64"));
    }
    Ok(())
}
