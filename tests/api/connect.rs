//! The connect flow (integration guide steps 4–7) against the fake CRM.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;

use crate::fake_crm::{CredentialsMode, EditMode, API_KEY, MG_TOKEN};
use crate::helpers::{input_value, spawn_app, text_of, Db, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    connecting_registers_the_module_and_lands_on_the_settings_page,
    secrets_are_stored_encrypted,
    reconnecting_updates_the_same_account,
    an_old_key_with_the_method_list_connects,
    every_failure_is_explained_and_stores_nothing,
    a_post_without_the_csrf_token_is_refused,
    the_marketplace_account_parameter_prefills_the_form,
);

async fn connecting_registers_the_module_and_lands_on_the_settings_page(db: Db) {
    let app = spawn_app(db).await;

    let client_id = app.connect_fake_crm().await;

    // The CRM saw the three calls, each with the key in the header.
    let calls: Vec<String> = app
        .crm
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /api/credentials",
            "GET /api/api-versions",
            "POST /api/v5/integration-modules/mg-acme/edit",
            // The account's language, where the CRM says it.
            "GET /api/v5/settings"
        ]
    );
    assert!(app
        .crm
        .requests()
        .iter()
        .all(|r| r.api_key.as_deref() == Some(API_KEY)));
    // The exact integrationModule the CRM received (test vector T7, with our clientId).
    assert_eq!(client_id.len(), 64);
    assert_eq!(
        app.crm.registered_modules(),
        [json!({
            "code": "mg-acme",
            "integrationCode": "mg-acme",
            "active": true,
            "name": "Acme Messenger",
            "logo": format!("{PUBLIC_URL}/static/logo.svg"),
            "clientId": client_id,
            "baseUrl": PUBLIC_URL,
            "accountUrl": format!("{PUBLIC_URL}/settings/{client_id}"),
            "actions": {"activity": "/activity"},
            "integrations": {"mgTransport": {"webhookUrl": format!("{PUBLIC_URL}/webhook/mg")}}
        })]
    );

    // The settings page lists the account.
    let response = app.get(&format!("/settings/{client_id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert_eq!(text_of(&html, "crm-url").unwrap(), app.crm.url);
    assert_eq!(text_of(&html, "status").unwrap(), "Active");
    assert_eq!(text_of(&html, "mg-endpoint").unwrap(), app.mg.url);
    assert_eq!(app.account_count().await, 1);
}

async fn secrets_are_stored_encrypted(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;

    let row = sqlx::query("SELECT * FROM account")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let mut stored = String::new();
    for column in [
        "client_id_hash",
        "client_id_enc",
        "crm_url",
        "api_key_enc",
        "mg_endpoint_url",
        "mg_token_enc",
    ] {
        stored.push_str(&row.get::<String, _>(column));
        stored.push('\n');
    }
    for secret in [API_KEY, MG_TOKEN, client_id.as_str()] {
        assert!(
            !stored.contains(secret),
            "{secret} stored in clear:\n{stored}"
        );
    }
    for column in ["client_id_enc", "api_key_enc", "mg_token_enc"] {
        assert!(row.get::<String, _>(column).starts_with("v1:"), "{column}");
    }
    // ...and they read back through the store.
    let account = app
        .store
        .find_account_by_client_id(&mgbridge::domain::ClientId::parse(&client_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.api_key.expose(), API_KEY);
    assert_eq!(account.mg_token.expose(), MG_TOKEN);
}

async fn reconnecting_updates_the_same_account(db: Db) {
    let app = spawn_app(db).await;
    let first = app.connect_fake_crm().await;
    app.crm.set(|s| s.mg_token = "second-token".into());

    // The merchant pastes the address slightly differently the second time.
    let page = app.connect(&format!("{}/", app.crm.url), API_KEY).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.unwrap(), format!("/settings/{first}"));

    let modules = app.crm.registered_modules();
    assert_eq!(modules.len(), 2);
    assert_eq!(modules[0]["clientId"], modules[1]["clientId"]);
    assert_eq!(app.account_count().await, 1);
    let account = app
        .store
        .find_account_by_client_id(&mgbridge::domain::ClientId::parse(&first).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.mg_token.expose(), "second-token");
}

async fn an_old_key_with_the_method_list_connects(db: Db) {
    let app = spawn_app(db).await;
    app.crm.set(|s| {
        s.credentials = CredentialsMode::Legacy(vec![
            "/api/integration-modules/{code}",
            "/api/integration-modules/{code}/edit",
        ])
    });
    app.connect_fake_crm().await;
    assert_eq!(app.account_count().await, 1);
}

async fn every_failure_is_explained_and_stores_nothing(db: Db) {
    let app = spawn_app(db).await;
    let crm = app.crm.url.clone();

    struct Case {
        name: &'static str,
        setup: fn(&mut crate::fake_crm::FakeCrmState),
        url: Option<&'static str>,
        key: &'static str,
        status: StatusCode,
        message: &'static str,
    }
    let ok = |_: &mut crate::fake_crm::FakeCrmState| {};
    let cases = [
        Case { name: "not a URL", setup: ok, url: Some("ht!tp://??"), key: API_KEY, status: StatusCode::UNPROCESSABLE_ENTITY, message: "The CRM address is not valid" },
        Case { name: "a path", setup: ok, url: Some("https://acme.retailcrm.ru/admin"), key: API_KEY, status: StatusCode::UNPROCESSABLE_ENTITY, message: "without a path" },
        Case { name: "empty key", setup: ok, url: None, key: "  ", status: StatusCode::UNPROCESSABLE_ENTITY, message: "Enter the API key" },
        Case { name: "unreachable", setup: ok, url: Some("http://127.0.0.1:1"), key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "Could not reach the CRM at http://127.0.0.1:1" },
        Case { name: "not a CRM", setup: |s| s.not_a_crm = true, url: None, key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "does not answer like a CRM" },
        Case { name: "wrong key", setup: ok, url: None, key: "wrong-key", status: StatusCode::UNPROCESSABLE_ENTITY, message: "does not accept this API key" },
        Case { name: "missing scopes", setup: |s| s.credentials = CredentialsMode::Scopes(vec!["order_read", "integration_read"]), url: None, key: API_KEY, status: StatusCode::UNPROCESSABLE_ENTITY, message: "lacks the rights integration_write" },
        Case { name: "old key lacking methods", setup: |s| s.credentials = CredentialsMode::Legacy(vec!["/api/orders/create"]), url: None, key: API_KEY, status: StatusCode::UNPROCESSABLE_ENTITY, message: "lacks the rights integration_read, integration_write" },
        Case { name: "no API v5", setup: |s| s.versions = vec!["3.0", "4.0"], url: None, key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "does not offer API version 5 (it offers 3.0, 4.0)" },
        Case { name: "payment required", setup: |s| s.edit = EditMode::PaymentRequired, url: None, key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "lack of funds: “Failed to activate module: Your account has insufficient funds to activate integration module”" },
        Case { name: "chats refused", setup: |s| s.edit = EditMode::Refused("MessageGateway is not enabled"), url: None, key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "(“MessageGateway is not enabled”). Check that chats are enabled" },
        Case { name: "no MG part", setup: |s| s.edit = EditMode::NoMgTransport, url: None, key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "Check that chats are enabled" },
        Case { name: "CRM error", setup: |s| s.edit = EditMode::ServerError, url: None, key: API_KEY, status: StatusCode::BAD_GATEWAY, message: "The CRM answered with an error (HTTP 500" },
    ];
    for case in cases {
        app.crm.set(|s| {
            s.credentials = CredentialsMode::Scopes(vec!["integration_read", "integration_write"]);
            s.versions = vec!["5.0"];
            s.edit = EditMode::Success;
            s.not_a_crm = false;
        });
        app.crm.set(case.setup);
        let url = case.url.map(str::to_owned).unwrap_or_else(|| crm.clone());

        let page = app.connect(&url, case.key).await;

        page.assert_refused(case.status, case.message, case.name);
        assert_eq!(
            page.crm_url_value.as_deref(),
            Some(url.as_str()),
            "{}: URL kept",
            case.name
        );
        assert!(
            !page.body.contains(API_KEY),
            "{}: the key is never echoed",
            case.name
        );
        assert_eq!(
            app.account_count().await,
            0,
            "{}: nothing stored",
            case.name
        );
    }
}

async fn a_post_without_the_csrf_token_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let _ = app.csrf_token().await; // the browser has the cookie...
    for token in [None, Some("forged"), Some("")] {
        let mut form = vec![("crm_url", app.crm.url.as_str()), ("api_key", API_KEY)];
        if let Some(token) = token {
            form.push(("authenticity_token", token));
        }
        let response = app
            .client
            .post(format!("{}/connect", app.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{token:?}");
        assert!(response.text().await.unwrap().contains("Form expired"));
    }
    // ...and a token from one browser does not work in another (no cookie).
    let token = app.csrf_token().await;
    let response = reqwest::Client::new()
        .post(format!("{}/connect", app.address))
        .form(&[
            ("crm_url", app.crm.url.as_str()),
            ("api_key", API_KEY),
            ("authenticity_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(app.crm.requests().is_empty(), "the CRM was never called");
    assert_eq!(app.account_count().await, 0);
}

async fn the_marketplace_account_parameter_prefills_the_form(db: Db) {
    let app = spawn_app(db).await;
    let html = app
        .get("/?account=https://acme.retailcrm.ru/")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        input_value(&html, "crm_url").unwrap(),
        "https://acme.retailcrm.ru"
    );
    // Values are escaped, never interpreted as markup.
    let html = app
        .get("/?account=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)"));
}
