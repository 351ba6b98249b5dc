//! The bot's own resources: `GET /me`, the webhook subscriptions, and chat members (for
//! users' avatars).

use super::serving::Incoming;
use super::*;

/// The `update_type`s of the schema's `Update`.
const UPDATE_TYPES: &[&str] = &[
    "message_created",
    "message_callback",
    "message_edited",
    "message_removed",
    "bot_added",
    "bot_removed",
    "user_added",
    "user_removed",
    "bot_started",
    "bot_stopped",
    "dialog_cleared",
    "dialog_removed",
    "dialog_muted",
    "dialog_unmuted",
    "chat_title_changed",
    "message_chat_created",
];

/// `BotInfo`: `UserWithPhoto` plus `commands`; `name` is deprecated but still sent.
pub(super) fn me(s: &FakeMaxState, token: &str) -> Response {
    let bot = &s.bots[token];
    Json(json!({
        "user_id": bot.id,
        "first_name": "Acme Shop",
        "last_name": null,
        "name": "Acme Shop",
        "username": bot.username,
        "is_bot": true,
        "last_activity_time": now_ms(),
        "description": null,
        "commands": null,
    }))
    .into_response()
}

/// `GetSubscriptionsResult`.
pub(super) fn subscriptions(s: &FakeMaxState, token: &str) -> Response {
    let list: Vec<Value> = s.bots[token]
        .subscriptions
        .iter()
        .map(|sub| {
            json!({
                "url": sub.url, "time": sub.time,
                "update_types": sub.update_types, "version": sub.version,
            })
        })
        .collect();
    Json(json!({ "subscriptions": list })).into_response()
}

/// `SubscriptionRequestBody`: `url` required and http(s), `secret` `^[\w-]{5,256}$`. The
/// ports MAX allows (80, 8080, 443, 8443, 16384–32383) are not checked: tests listen on
/// ephemeral loopback ports.
pub(super) fn subscribe(s: &mut FakeMaxState, request: &Incoming) -> Response {
    let Some(body) = request.body.and_then(Value::as_object) else {
        return bad_request("Request body must be SubscriptionRequestBody");
    };
    let Some(url) = body.get("url").and_then(Value::as_str) else {
        return bad_request("Field `url` is required");
    };
    let is_http = url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !is_http {
        return bad_request("Field `url` must start with http(s)://");
    }
    let secret = match body.get("secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(secret)) => Some(secret.clone()),
        Some(_) => return bad_request("Field `secret` must be a string"),
    };
    if let Some(secret) = &secret {
        let fine = (5..=256).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !fine {
            return bad_request("Field `secret` must match ^[\\w-]{5,256}$");
        }
    }
    let update_types = match body.get("update_types") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut types = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(t) if UPDATE_TYPES.contains(&t) => types.push(t.to_owned()),
                    _ => return bad_request(&format!("Unknown update type: {item}")),
                }
            }
            Some(types)
        }
        Some(_) => return bad_request("Field `update_types` must be an array"),
    };
    let version = body
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let subscriptions = &mut s.bots.get_mut(request.token).unwrap().subscriptions;
    // Subscribing the same URL again replaces its settings.
    subscriptions.retain(|sub| sub.url != url);
    subscriptions.push(Subscription {
        url: url.to_owned(),
        secret,
        update_types,
        version,
        time: now_ms(),
    });
    success()
}

/// `DELETE /subscriptions?url=`: success whether or not the URL was subscribed.
pub(super) fn unsubscribe(s: &mut FakeMaxState, request: &Incoming) -> Response {
    let Some(url) = request.param("url") else {
        return bad_request("Parameter `url` is required");
    };
    let bot = s.bots.get_mut(request.token).unwrap();
    bot.subscriptions.retain(|sub| sub.url != url);
    success()
}

/// `ChatMembersList` for `?user_ids=1,2` (each listed, as in a dialog every user is a
/// member); without it, the users the fake has avatars for. `marker` is always null.
pub(super) fn members(s: &FakeMaxState, chat: &str, request: &Incoming) -> Response {
    if chat.parse::<i64>().is_err() {
        return bad_request("Path parameter `chatId` must be an integer");
    }
    let users: Vec<i64> = match request.param("user_ids") {
        Some(list) => {
            let parsed: Result<Vec<i64>, _> =
                list.split(',').map(|id| id.trim().parse::<i64>()).collect();
            match parsed {
                Ok(ids) => ids,
                Err(_) => return bad_request("Parameter `user_ids` must list integers"),
            }
        }
        None => {
            let mut ids: Vec<i64> = s.avatars.keys().copied().collect();
            ids.sort_unstable();
            ids
        }
    };
    let now = now_ms();
    let members: Vec<Value> = users
        .into_iter()
        .map(|user_id| {
            let mut member = json!({
                "user_id": user_id,
                "first_name": format!("User {user_id}"),
                "last_name": null,
                "name": format!("User {user_id}"),
                "username": null,
                "is_bot": false,
                "last_activity_time": now,
                "description": null,
                "last_access_time": now,
                "is_owner": false,
                "is_admin": false,
                "join_time": now - 86_400_000,
                "permissions": null,
                "alias": null,
            });
            if let Some(name) = s.avatars.get(&user_id) {
                let full = format!("{}/files/{name}", s.base);
                member["avatar_url"] = json!(format!("{full}?size=small"));
                member["full_avatar_url"] = json!(full);
            }
            member
        })
        .collect();
    Json(json!({ "members": members, "marker": null })).into_response()
}
