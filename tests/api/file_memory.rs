//! Operators' attachments are held in memory between their download from MG and their upload to
//! Telegram. `queue.file_memory_mb` bounds what they take at once: deliveries past it wait for
//! memory instead of growing the process, an album larger than the whole budget still goes, and
//! while a delivery waits for memory, other chats' messages without files do not wait behind it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::bridge::operator_message;
use crate::fake_telegram::Failure;
use crate::helpers::{metric, spawn_app_with, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;
use crate::outbound::int;

on_both_databases!(
    files_past_the_memory_budget_wait_for_it,
    an_album_larger_than_the_budget_still_goes,
    two_albums_each_over_half_the_budget_both_go,
    texts_do_not_wait_behind_files_waiting_for_memory,
);

const KB: usize = 1024;
/// How long the fake Bot API takes to answer an upload.
const UPLOAD_TIME: Duration = Duration::from_millis(400);

async fn spawn(db: Db) -> (TestApp, Bridge) {
    let app = spawn_app_with(db, |s| s.queue.file_memory_mb = 1).await;
    let bridge = app.connect_with_bot().await;
    (app, bridge)
}

/// The file memory held now, from `/metrics`.
async fn memory_reserved(app: &TestApp) -> f64 {
    let page = app.get("/metrics").await.text().await.unwrap();
    metric(&page, "mgbridge_file_memory_reserved_bytes")
}

/// An operator's message `id` with attachments into the private chat `chat`.
fn operator_files(bridge: &Bridge, id: i64, chat: i64, kind: &str, files: &[String]) -> Value {
    let items: Vec<Value> = files.iter().map(|f| json!({ "id": f })).collect();
    json!({"type": "message_sent", "meta": {"timestamp": 1_790_000_000}, "data": {
        "id": id, "type": kind, "items": items, "channel_id": bridge.mg_channel_id,
        "external_chat_id": chat.to_string(), "external_user_id": chat.to_string(),
    }})
}

/// Waits for the successful acks of MG messages `ids`.
async fn wait_for_acks(app: &TestApp, ids: &[i64]) {
    let acks = wait_for("the acks", || {
        let acks: Vec<Value> = app
            .mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .filter_map(|r| r.body)
            .collect();
        ids.iter()
            .all(|id| acks.iter().any(|a| a["message"]["id"] == json!(id)))
            .then_some(acks)
    })
    .await;
    for ack in acks {
        assert!(ack.get("error").is_none(), "{ack}");
    }
}

async fn files_past_the_memory_budget_wait_for_it(db: Db) {
    let (app, bridge) = spawn(db).await;
    app.telegram
        .fail("sendDocument", Failure::Slow(UPLOAD_TIME));
    // Three 600 KB files in three chats: each lane could deliver at once, but any two together
    // would hold 1.2 MB, past the 1 MB budget.
    let ids = [1, 2, 3];
    for id in ids {
        let file = app.mg.add_file("application/pdf", vec![id as u8; 600 * KB]);
        let hook = operator_files(&bridge, id, 7_100_000_000 + id, "file", &[file]);
        let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    wait_for_acks(&app, &ids).await;

    let mut uploads: Vec<_> = app
        .telegram
        .calls_to("sendDocument")
        .into_iter()
        .map(|c| c.at)
        .collect();
    assert_eq!(uploads.len(), 3, "each file was sent once");
    uploads.sort();
    // A delivery downloads its file only once the one before has been uploaded and let go.
    for pair in uploads.windows(2) {
        assert!(
            pair[1] - pair[0] >= UPLOAD_TIME,
            "two files were held at once: uploads {:?} apart",
            pair[1] - pair[0]
        );
    }
    assert_eq!(app.mg.downloads().len(), 3);
}

async fn an_album_larger_than_the_budget_still_goes(db: Db) {
    let (app, bridge) = spawn(db).await;
    let files: Vec<String> = (1..=3u8)
        .map(|n| app.mg.add_file("image/jpeg", vec![n; 600 * KB]))
        .collect();
    let hook = operator_files(&bridge, 1, 7_100_000_001, "image", &files);
    let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
    assert_eq!(answer.status(), StatusCode::OK);
    wait_for_acks(&app, &[1]).await;

    let albums = app.telegram.calls_to("sendMediaGroup");
    assert_eq!(albums.len(), 1);
    assert_eq!(albums[0].files.len(), 3);
    assert_eq!(albums[0].files[2].bytes, vec![3u8; 600 * KB]);
    assert_eq!(
        memory_reserved(&app).await,
        0.0,
        "given back after the album"
    );
}

async fn two_albums_each_over_half_the_budget_both_go(db: Db) {
    let (app, bridge) = spawn(db).await;
    app.telegram
        .fail("sendMediaGroup", Failure::Slow(UPLOAD_TIME));
    // MG answers slowly, so both albums are described before either has downloaded a photo.
    app.mg.set(|s| s.delay = Duration::from_millis(400));
    // Two 400 KB photos per album, two albums at once under 1 MB: taken file by file, each
    // album would hold one photo's memory and wait forever for the second.
    let ids = [1, 2];
    for id in ids {
        let files: Vec<String> = (0..2u8)
            .map(|n| {
                app.mg
                    .add_file("image/jpeg", vec![id as u8 * 10 + n; 400 * KB])
            })
            .collect();
        let hook = operator_files(&bridge, id, 7_100_000_000 + id, "image", &files);
        let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    wait_for_acks(&app, &ids).await;

    let mut albums = app.telegram.calls_to("sendMediaGroup");
    assert_eq!(albums.len(), 2, "each album was sent once");
    for album in &albums {
        let chat = int(&album.params["chat_id"]);
        let id = (chat - 7_100_000_000) as u8;
        let sent: Vec<_> = album.files.iter().map(|f| f.bytes.clone()).collect();
        assert_eq!(
            sent,
            vec![vec![id * 10; 400 * KB], vec![id * 10 + 1; 400 * KB]]
        );
    }
    albums.sort_by_key(|a| a.at);
    assert!(
        albums[1].at - albums[0].at >= UPLOAD_TIME,
        "both albums were held at once: 1.6 MB under a 1 MB budget"
    );
    assert_eq!(memory_reserved(&app).await, 0.0);
}

async fn texts_do_not_wait_behind_files_waiting_for_memory(db: Db) {
    let slow = Duration::from_millis(1_500);
    let app = spawn_app_with(db, |s| {
        s.queue.file_memory_mb = 1;
        s.queue.concurrency = 2;
        s.queue.account_concurrency = 2;
    })
    .await;
    let bridge = app.connect_with_bot().await;
    app.telegram.fail("sendDocument", Failure::Slow(slow));
    // Three 600 KB files in three chats: one is uploading, the other two wait for memory.
    let files = [1, 2, 3];
    for id in files {
        let file = app.mg.add_file("application/pdf", vec![id as u8; 600 * KB]);
        let hook = operator_files(&bridge, id, 7_100_000_000 + id, "file", &[file]);
        let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let first_upload = wait_for("the first upload", || {
        app.telegram.calls_to("sendDocument").first().map(|c| c.at)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A text into a fourth chat of the same account, while both slots hold file deliveries.
    let text_chat = 7_200_000_000;
    let hook = operator_message(&bridge, 10, text_chat, "are you there?");
    let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
    assert_eq!(answer.status(), StatusCode::OK);
    wait_for_acks(&app, &[10]).await;

    let text = app
        .telegram
        .calls_to("sendMessage")
        .into_iter()
        .find(|c| int(&c.params["chat_id"]) == text_chat)
        .expect("the text was sent");
    assert!(
        text.at < first_upload + slow,
        "the text waited for a file's upload: sent {:?} after it began",
        text.at - first_upload
    );
    wait_for_acks(&app, &files).await;
    assert_eq!(app.telegram.calls_to("sendDocument").len(), 3);
}
