//! The CRM's activity callback (`protocol/system-api.md` §5.1, test vector T12).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, text_of, Db};
use crate::on_both_databases;

on_both_databases!(
    activity_switches_the_account_off_freezes_it_and_back_on,
    activity_follows_the_crm_to_its_new_address,
    activity_for_an_unknown_client_is_404,
    malformed_activity_is_400_and_changes_nothing,
);

async fn status_shown(app: &crate::helpers::TestApp, client_id: &str) -> String {
    text_of(&app.settings_html(client_id).await, "status").unwrap()
}

async fn activity_switches_the_account_off_freezes_it_and_back_on(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;

    for (activity, expected) in [
        (
            r#"{"active":false,"freeze":false}"#,
            "Switched off in the CRM",
        ),
        (r#"{"active":true,"freeze":true}"#, "Frozen by the CRM"),
        (r#"{"active":true,"freeze":false}"#, "Active"),
    ] {
        let response = app
            .post_activity(&[
                ("clientId", &client_id),
                ("activity", activity),
                ("systemUrl", &app.crm.url),
            ])
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{activity}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"success": true})
        );
        assert_eq!(status_shown(&app, &client_id).await, expected, "{activity}");
    }
}

async fn activity_follows_the_crm_to_its_new_address(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;

    let response = app
        .post_activity(&[
            ("clientId", &client_id),
            ("activity", r#"{"active":true,"freeze":false}"#),
            ("systemUrl", "https://acme.simla.com/"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = app.settings_html(&client_id).await;
    assert_eq!(text_of(&html, "crm-url").unwrap(), "https://acme.simla.com");
    assert_eq!(app.account_count().await, 1);
}

async fn activity_for_an_unknown_client_is_404(db: Db) {
    let app = spawn_app(db).await;
    app.connect_fake_crm().await;
    for client_id in ["a".repeat(64), "not-even-hex".to_owned()] {
        let response = app
            .post_activity(&[
                ("clientId", &client_id),
                ("activity", r#"{"active":false,"freeze":false}"#),
            ])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["errorMsg"], "unknown clientId");
    }
}

async fn malformed_activity_is_400_and_changes_nothing(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    let off = r#"{"active":false,"freeze":false}"#;
    for form in [
        vec![("clientId", client_id.as_str()), ("activity", "not json")],
        vec![
            ("clientId", client_id.as_str()),
            ("activity", r#"{"freeze":true}"#),
        ],
        vec![("clientId", client_id.as_str())],
        vec![("activity", off)],
        vec![
            ("clientId", client_id.as_str()),
            ("activity", off),
            ("systemUrl", "javascript:alert(1)"),
        ],
    ] {
        let response = app.post_activity(&form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false, "{form:?}");
        assert!(body["errorMsg"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A JSON body instead of a form.
    let response = app
        .client
        .post(format!("{}/activity", app.address))
        .json(&json!({"clientId": client_id, "activity": off}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(status_shown(&app, &client_id).await, "Active");
}
