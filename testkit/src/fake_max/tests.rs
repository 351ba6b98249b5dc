//! The fake's own promises, over HTTP as a client sees them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use super::{updates, AuthVia, Failure, FakeMax, BOT_ID, BOT_USERNAME, OTHER_TOKEN, TOKEN};

/// The fake and one client for the test (kept-alive connections keep the rate test fast).
struct Max {
    fake: FakeMax,
    http: reqwest::Client,
}

impl Max {
    async fn start() -> Self {
        Self {
            fake: FakeMax::with_bot().await,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(Some(TOKEN), method, path, body).await
    }

    async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.fake.url));
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Asks for an upload URL of `kind`, posts `bytes` there; the two answers.
    async fn upload(&self, kind: &str, bytes: &[u8]) -> (Value, Value) {
        let path = format!("/uploads?type={kind}");
        let (status, endpoint) = self.call("POST", &path, None).await;
        assert_eq!(status, 200, "{endpoint}");
        let part = Part::bytes(bytes.to_vec())
            .file_name("photo.jpg")
            .mime_str("image/jpeg")
            .unwrap();
        let url = endpoint["url"].as_str().unwrap();
        let response = self
            .http
            .post(url)
            .multipart(Form::new().part("data", part))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        (endpoint, response.json().await.unwrap())
    }
}

#[tokio::test]
async fn only_known_tokens_get_in_and_tokens_stay_out_of_the_record() {
    let max = Max::start().await;
    let fake = &max.fake;
    let (status, body) = max.call_as(None, "GET", "/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": "verify.token", "message": "Invalid access_token"})
    );
    let (status, _) = max.call_as(Some(OTHER_TOKEN), "GET", "/me", None).await;
    assert_eq!(status, 401);
    let (status, _) = max
        .call_as(Some(&format!("Bearer {TOKEN}")), "GET", "/me", None)
        .await;
    assert_eq!(status, 401, "MAX wants the raw token, no Bearer");

    let (status, me) = max.call("GET", "/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["user_id"], BOT_ID);
    assert_eq!(me["username"], BOT_USERNAME);
    assert_eq!(me["is_bot"], true);

    let legacy = format!("/me?access_token={TOKEN}&v=0.0.30");
    let (status, _) = max.call_as(None, "GET", &legacy, None).await;
    assert_eq!(status, 200);
    let last = fake.last_call_to("GET /me").unwrap();
    assert_eq!(last.auth, AuthVia::Query);
    assert_eq!(last.token.as_deref(), Some(TOKEN));
    assert!(!last.query.contains_key("access_token"));
    assert_eq!(last.query["v"], "0.0.30");

    fake.revoke(TOKEN);
    let (status, _) = max.call("GET", "/me", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn each_token_gets_thirty_requests_a_second() {
    let max = Max::start().await;
    let fake = &max.fake;
    fake.add_bot(OTHER_TOKEN, 2, "other_bot");
    for _ in 0..30 {
        assert_eq!(max.call("GET", "/me", None).await.0, 200);
    }
    let (status, body) = max.call("GET", "/me", None).await;
    assert_eq!(status, 429);
    assert_eq!(body["code"], "too.many.requests");
    let (status, _) = max.call_as(Some(OTHER_TOKEN), "GET", "/me", None).await;
    assert_eq!(status, 200, "the limit is per token");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(max.call("GET", "/me", None).await.0, 200);

    fake.set_rate_limit(None);
    for _ in 0..60 {
        assert_eq!(max.call("GET", "/me", None).await.0, 200);
    }
}

#[tokio::test]
async fn subscriptions_are_checked_kept_and_removed() {
    let max = Max::start().await;
    let fake = &max.fake;
    let subscribe = |body: Value| max.call("POST", "/subscriptions", Some(body));
    for bad in [
        json!({"url": "https://example.com/hook", "secret": "abc"}),
        json!({"url": "https://example.com/hook", "secret": "has space!"}),
        json!({"url": "ftp://example.com/hook"}),
        json!({"url": "https://example.com/hook", "update_types": ["message_create"]}),
        json!({"secret": "s3cret"}),
    ] {
        let (status, body) = subscribe(bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["code"].is_string() && body["message"].is_string());
    }
    assert!(fake.subscriptions_of(TOKEN).is_empty());

    let body = json!({
        "url": "https://shop.example/max/hook", "secret": "s3cret_-X",
        "update_types": ["message_created", "bot_started"], "version": "0.0.30",
    });
    let (status, answer) = subscribe(body).await;
    assert_eq!((status, answer), (200, json!({"success": true})));
    let kept = fake.subscriptions_of(TOKEN);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].secret.as_deref(), Some("s3cret_-X"));
    let (_, list) = max.call("GET", "/subscriptions", None).await;
    assert_eq!(
        list["subscriptions"][0]["url"],
        "https://shop.example/max/hook"
    );
    assert_eq!(list["subscriptions"][0]["update_types"][1], "bot_started");

    let path = "/subscriptions?url=https%3A%2F%2Fshop.example%2Fmax%2Fhook";
    let (status, _) = max.call("DELETE", path, None).await;
    assert_eq!(status, 200);
    assert!(fake.subscriptions_of(TOKEN).is_empty());
}

#[tokio::test]
async fn an_uploaded_photo_is_sent_by_its_token_and_downloadable() {
    let max = Max::start().await;
    let fake = &max.fake;
    let bytes = b"\xff\xd8\xff\xe0 a jpeg".to_vec();
    let (endpoint, uploaded) = max.upload("image", &bytes).await;
    assert!(
        endpoint.get("token").is_none(),
        "images get tokens from the upload"
    );
    let photos = uploaded["photos"].clone();
    assert_eq!(photos.as_object().unwrap().len(), 1);
    let recorded = fake.uploads();
    assert_eq!(recorded[0].bytes, bytes);
    assert_eq!(recorded[0].file_name.as_deref(), Some("photo.jpg"));
    assert_eq!(recorded[0].content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(recorded[0].upload_type, "image");

    let body = json!({
        "text": "Your order", "format": "html",
        "attachments": [{"type": "image", "payload": {"photos": photos}}],
    });
    let (status, sent) = max.call("POST", "/messages?user_id=42", Some(body)).await;
    assert_eq!(status, 200, "{sent}");
    let message = &sent["message"];
    assert!(message["body"]["mid"].as_str().unwrap().starts_with("mid."));
    assert_eq!(message["recipient"]["user_id"], 42);
    assert_eq!(message["body"]["text"], "Your order");
    let url = message["body"]["attachments"][0]["payload"]["url"]
        .as_str()
        .unwrap();
    let served = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(served.to_vec(), bytes);
    assert_eq!(fake.messages_to_user(42).len(), 1);

    let unknown =
        json!({"text": null, "attachments": [{"type": "file", "payload": {"token": "nope"}}]});
    let (status, body) = max
        .call("POST", "/messages?user_id=42", Some(unknown))
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("attachment.not.found"))
    );
}

#[tokio::test]
async fn video_tokens_come_with_the_url_and_are_not_ready_before_the_upload() {
    let max = Max::start().await;
    let (status, endpoint) = max.call("POST", "/uploads?type=video", None).await;
    assert_eq!(status, 200);
    let token = endpoint["token"].as_str().unwrap().to_owned();
    let send =
        json!({"text": "clip", "attachments": [{"type": "video", "payload": {"token": token}}]});
    let (status, body) = max
        .call("POST", "/messages?user_id=7", Some(send.clone()))
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("attachment.not.ready"))
    );

    let form = Form::new().part("data", Part::bytes(b"mp4".to_vec()).file_name("a.mp4"));
    let url = endpoint["url"].as_str().unwrap();
    let response = max.http.post(url).multipart(form).send().await.unwrap();
    let uploaded: Value = response.json().await.unwrap();
    assert_eq!(uploaded["token"], token.as_str());
    assert_eq!(max.fake.uploads()[0].upload_type, "video");
    let (status, _) = max.call("POST", "/messages?user_id=7", Some(send)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn not_ready_refuses_the_next_sends_with_media_only() {
    let max = Max::start().await;
    let fake = &max.fake;
    let (_, uploaded) = max.upload("file", b"%PDF-1.4").await;
    let token = uploaded["token"].as_str().unwrap();
    let with_file =
        json!({"text": null, "attachments": [{"type": "file", "payload": {"token": token}}]});
    fake.not_ready_times(2);
    let (status, _) = max
        .call("POST", "/messages?user_id=5", Some(json!({"text": "hi"})))
        .await;
    assert_eq!(status, 200, "a text-only send is not refused");
    for _ in 0..2 {
        let (status, body) = max
            .call("POST", "/messages?user_id=5", Some(with_file.clone()))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"code": "attachment.not.ready", "message": "Key: errors.process.attachment.file.not.processed"})
        );
    }
    let (status, sent) = max
        .call("POST", "/messages?user_id=5", Some(with_file))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sent["message"]["body"]["attachments"][0]["filename"],
        "photo.jpg"
    );
    assert_eq!(fake.messages_to_user(5).len(), 2);
}

#[tokio::test]
async fn sent_messages_are_edited_fetched_and_deleted() {
    let max = Max::start().await;
    let fake = &max.fake;
    let (_, sent) = max
        .call(
            "POST",
            "/messages?chat_id=-100",
            Some(json!({"text": "v1"})),
        )
        .await;
    let mid = sent["message"]["body"]["mid"].as_str().unwrap().to_owned();

    let path = format!("/messages?message_id={mid}");
    let (status, body) = max.call("PUT", &path, Some(json!({"text": "v2"}))).await;
    assert_eq!((status, body), (200, json!({"success": true})));
    let (status, got) = max.call("GET", &format!("/messages/{mid}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(got["body"]["text"], "v2");
    assert!(fake.message(&mid).unwrap().edited);

    let (status, _) = max.call("DELETE", &path, None).await;
    assert_eq!(status, 200);
    assert!(fake.message(&mid).unwrap().deleted);
    let (status, body) = max.call("GET", &format!("/messages/{mid}"), None).await;
    assert_eq!((status, body["code"].clone()), (404, json!("not.found")));
    let (status, _) = max.call("PUT", &path, Some(json!({"text": "v3"}))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sends_are_checked_as_max_checks_them() {
    let max = Max::start().await;
    let fake = &max.fake;
    let send = |body: Value| max.call("POST", "/messages?user_id=9", Some(body));
    let long = "я".repeat(4001);
    assert_eq!(send(json!({"text": long})).await.0, 400);
    assert_eq!(send(json!({"text": "я".repeat(4000)})).await.0, 200);
    assert_eq!(send(json!({"text": "x", "format": "xml"})).await.0, 400);
    let unknown_link = json!({"text": "x", "link": {"type": "reply", "mid": "mid.nope"}});
    assert_eq!(send(unknown_link).await.0, 400);
    fake.know_message("mid.customer1");
    let reply = json!({"text": "x", "link": {"type": "reply", "mid": "mid.customer1"}});
    let (status, sent) = send(reply).await;
    assert_eq!(status, 200);
    assert_eq!(sent["message"]["link"]["message"]["mid"], "mid.customer1");

    fake.block_user(9);
    let (status, body) = send(json!({"text": "x"})).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "chat.denied");
}

#[tokio::test]
async fn failures_are_injected_by_route() {
    let max = Max::start().await;
    let fake = &max.fake;
    fake.fail_times("POST /messages", Failure::server_error(), 1);
    let body = json!({"text": "x"});
    assert_eq!(
        max.call("POST", "/messages?user_id=1", Some(body.clone()))
            .await
            .0,
        500
    );
    assert_eq!(
        max.call("POST", "/messages?user_id=1", Some(body.clone()))
            .await
            .0,
        200
    );
    assert_eq!(fake.calls_to("POST /messages").len(), 2);
    assert_eq!(fake.calls_to("POST /messages")[0].body, body);

    fake.fail("GET /me", Failure::Hang);
    let hung = reqwest::Client::new()
        .get(format!("{}/me", fake.url))
        .header("Authorization", TOKEN)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());
    fake.clear_failures();
    assert_eq!(max.call("GET", "/me", None).await.0, 200);
}

#[tokio::test]
async fn members_carry_avatars_served_without_a_token() {
    let max = Max::start().await;
    let fake = &max.fake;
    let url = fake.set_avatar(77, b"\x89PNG avatar".to_vec());
    let (status, list) = max
        .call("GET", "/chats/123/members?user_ids=77,78", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["members"][0]["full_avatar_url"], url.as_str());
    assert!(list["members"][1].get("avatar_url").is_none());
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"\x89PNG avatar");
}

#[tokio::test]
async fn deliver_posts_the_update_with_the_secret() {
    use axum::http::HeaderMap;
    let received = Arc::new(Mutex::new(None));
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let keep = keep.clone();
            async move { *keep.lock().unwrap() = Some((headers, body)) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let update = updates::message_created(42, "Boris", Some("borisd84"), 4200, "mid.1", Some("hi"));
    let update = updates::with_attachment(update, updates::location(55.75, 37.62));
    let response = updates::deliver(&url, "s3cret", &update).await;
    assert_eq!(response.status(), 200);
    let (headers, body) = received.lock().unwrap().take().unwrap();
    assert_eq!(headers["x-max-bot-api-secret"], "s3cret");
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(got["update_type"], "message_created");
    assert_eq!(got["message"]["sender"]["user_id"], 42);
    assert_eq!(got["message"]["body"]["attachments"][0]["type"], "location");
}
