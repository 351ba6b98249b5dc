//! The simple (one-step) connection (`protocol/system-api.md` §5.4): the CRM's server asks for
//! the configuration, then posts a signed API key; the module runs the form's connect flow
//! against the fake CRM and answers with the settings page. Real HTTP both ways.

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::fake_crm::{CredentialsMode, EditMode, API_KEY};
use crate::helpers::{capture_logs, spawn_app, spawn_app_with, text_of, Db, TestApp, PUBLIC_URL};
use crate::on_both_databases;

on_both_databases!(
    the_simple_connection_is_off_while_the_secret_is_empty,
    the_configuration_request_names_the_scopes_and_the_register_url,
    a_wrong_token_is_refused_with_401_and_registers_nothing,
    empty_or_invalid_register_data_is_refused,
    a_refused_system_url_is_explained_and_never_called,
    every_failure_of_the_connect_flow_is_explained_and_stores_nothing,
    a_signed_request_connects_and_lands_on_the_settings_page,
    connecting_again_keeps_the_client_id,
);

const SECRET: &str = "partner-secret-1";

/// What the CRM computes: lower-case hex of HMAC-SHA256(key = secret, message = apiKey).
fn token_for(secret: &str, api_key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(api_key.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn the_test_signature_is_the_protocols() {
    // protocol/system-api.md §7 T14: the CRM's side of the signature, as this file computes it.
    assert_eq!(
        token_for(SECRET, "kX3pQ9vL2mN8rT4wY6zA1bC5dE7fG0hJ"),
        "0b7005c24c53d888338b853295c4ec7bd568446073709041e0365e14d742a36c"
    );
}

async fn spawn_simple(db: Db) -> TestApp {
    spawn_app_with(db, |s| {
        s.module.simple_connection_secret = Some(SecretString::from(SECRET.to_owned()))
    })
    .await
}

/// The `register` JSON the CRM posts, signed with `SECRET`.
fn signed(api_key: &str, system_url: &str) -> String {
    json!({"token": token_for(SECRET, api_key), "apiKey": api_key, "systemUrl": system_url})
        .to_string()
}

impl TestApp {
    /// The CRM's register request: a form with the field `register`.
    async fn post_register(&self, register: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/simple-connection/register", self.address))
            .form(&[("register", register)])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.json().await.expect("a JSON answer");
        (status, body)
    }
}

/// Asserts a `success: false` answer (HTTP 200) whose errorMsg says `message`.
#[track_caller]
fn assert_refused(answer: &(StatusCode, Value), message: &str, case: &str) {
    assert_eq!(answer.0, StatusCode::OK, "{case}: {answer:?}");
    assert_eq!(answer.1["success"], false, "{case}: {answer:?}");
    let error = answer.1["errorMsg"].as_str().unwrap_or_default();
    assert!(
        error.contains(message),
        "{case}: expected «{message}» in «{error}»"
    );
}

async fn the_simple_connection_is_off_while_the_secret_is_empty(db: Db) {
    let app = spawn_app(db).await;
    for response in [
        app.get("/simple-connection").await,
        app.client
            .post(format!("{}/simple-connection", app.address))
            .send()
            .await
            .unwrap(),
        app.client
            .post(format!("{}/simple-connection/register", app.address))
            .form(&[("register", signed(API_KEY, &app.crm.url))])
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert!(app.crm.requests().is_empty(), "the CRM was never called");
    assert_eq!(app.account_count().await, 0);
}

async fn the_configuration_request_names_the_scopes_and_the_register_url(db: Db) {
    let app = spawn_simple(db).await;
    let expected = json!({
        "success": true,
        "scopes": ["integration_read", "integration_write"],
        "registerUrl": format!("{PUBLIC_URL}/simple-connection/register"),
    });
    let get = app.get("/simple-connection").await;
    let post = app
        .client
        .post(format!("{}/simple-connection", app.address))
        .send()
        .await
        .unwrap();
    for response in [get, post] {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap(), expected);
    }
}

async fn a_wrong_token_is_refused_with_401_and_registers_nothing(db: Db) {
    let app = spawn_simple(db).await;
    let good = token_for(SECRET, API_KEY);
    for (case, token) in [
        (
            "another secret",
            Some(token_for("partner-secret-2", API_KEY)),
        ),
        ("another key", Some(token_for(SECRET, "another-key"))),
        ("upper-case hex", Some(good.to_uppercase())),
        ("cut short", Some(good[..63].to_owned())),
        ("empty", Some(String::new())),
        ("missing", None),
    ] {
        let mut register = json!({"apiKey": API_KEY, "systemUrl": app.crm.url});
        if let Some(token) = token {
            register["token"] = json!(token);
        }
        let answer = app.post_register(&register.to_string()).await;
        assert_eq!(answer, (StatusCode::UNAUTHORIZED, json!({})), "{case}");
    }
    assert!(app.crm.requests().is_empty(), "the CRM was never called");
    assert_eq!(app.account_count().await, 0);
}

async fn empty_or_invalid_register_data_is_refused(db: Db) {
    let app = spawn_simple(db).await;
    for (case, register, message) in [
        ("empty", "", "No data provided"),
        ("blank", "  ", "No data provided"),
        ("not JSON", "token=abc", "Invalid JSON provided"),
        ("cut JSON", "{\"token\":", "Invalid JSON provided"),
        ("an array", "[]", "Invalid JSON provided"),
        ("a number token", "{\"token\":1}", "Invalid JSON provided"),
    ] {
        let answer = app.post_register(register).await;
        assert_refused(&answer, message, case);
    }
    // No `register` field at all, and a body that is not a form.
    let response = app
        .client
        .post(format!("{}/simple-connection/register", app.address))
        .form(&[("other", "x")])
        .send()
        .await
        .unwrap();
    let answer = (response.status(), response.json().await.unwrap());
    assert_refused(&answer, "No data provided", "no field");
    let response = app
        .client
        .post(format!("{}/simple-connection/register", app.address))
        .json(&json!({"register": signed(API_KEY, &app.crm.url)}))
        .send()
        .await
        .unwrap();
    let answer = (response.status(), response.json().await.unwrap());
    assert_refused(&answer, "No data provided", "a JSON body");
    // The form body limit still holds.
    let response = app
        .client
        .post(format!("{}/simple-connection/register", app.address))
        .form(&[("register", "x".repeat(100 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.crm.requests().is_empty(), "the CRM was never called");
    assert_eq!(app.account_count().await, 0);
}

async fn a_refused_system_url_is_explained_and_never_called(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.module.simple_connection_secret = Some(SecretString::from(SECRET.to_owned()));
        s.crm.allowed_domains = vec![
            "retailcrm.ru".into(),
            "simla.com".into(),
            "localhost".into(),
        ];
        s.crm.allow_private_networks = false;
    })
    .await;
    // The fake CRM really listens on loopback: the guard, not a closed port, must stop the call.
    let port = app.crm.url.rsplit(':').next().unwrap().to_owned();
    for (system_url, messages) in [
        (
            "https://evil.example.com".to_owned(),
            vec!["evil.example.com is not a CRM address this module may connect to"],
        ),
        (
            "https://acme.simla.com/admin".to_owned(),
            vec!["without a path"],
        ),
        (
            format!("http://localhost:{port}"),
            vec![
                "loopback address",
                "only connects to CRMs on the public internet",
            ],
        ),
    ] {
        let answer = app.post_register(&signed(API_KEY, &system_url)).await;
        for message in messages {
            assert_refused(&answer, message, &system_url);
        }
    }
    assert!(app.crm.requests().is_empty(), "the CRM was never called");
    assert_eq!(app.account_count().await, 0);
}

async fn every_failure_of_the_connect_flow_is_explained_and_stores_nothing(db: Db) {
    let app = spawn_simple(db).await;
    struct Case {
        name: &'static str,
        setup: fn(&mut crate::fake_crm::FakeCrmState),
        key: &'static str,
        message: &'static str,
    }
    let ok = |_: &mut crate::fake_crm::FakeCrmState| {};
    let cases = [
        Case { name: "empty key", setup: ok, key: "", message: "Enter the API key" },
        Case { name: "wrong key", setup: ok, key: "wrong-key", message: "does not accept this API key" },
        Case { name: "not a CRM", setup: |s| s.not_a_crm = true, key: API_KEY, message: "does not answer like a CRM" },
        Case { name: "missing scopes", setup: |s| s.credentials = CredentialsMode::Scopes(vec!["order_read", "integration_read"]), key: API_KEY, message: "lacks the rights integration_write" },
        Case { name: "no API v5", setup: |s| s.versions = vec!["3.0", "4.0"], key: API_KEY, message: "does not offer API version 5 (it offers 3.0, 4.0)" },
        Case { name: "payment required", setup: |s| s.edit = EditMode::PaymentRequired, key: API_KEY, message: "lack of funds: “Failed to activate module: Your account has insufficient funds to activate integration module”" },
        Case { name: "edit refused", setup: |s| s.edit = EditMode::Refused("MessageGateway is not enabled"), key: API_KEY, message: "(“MessageGateway is not enabled”). Check that chats are enabled" },
        Case { name: "no MG part", setup: |s| s.edit = EditMode::NoMgTransport, key: API_KEY, message: "Check that chats are enabled" },
        Case { name: "CRM error", setup: |s| s.edit = EditMode::ServerError, key: API_KEY, message: "The CRM answered with an error (HTTP 500" },
    ];
    for case in cases {
        app.crm.set(|s| {
            s.credentials = CredentialsMode::Scopes(vec!["integration_read", "integration_write"]);
            s.versions = vec!["5.0"];
            s.edit = EditMode::Success;
            s.not_a_crm = false;
        });
        app.crm.set(case.setup);

        let answer = app.post_register(&signed(case.key, &app.crm.url)).await;

        assert_refused(&answer, case.message, case.name);
        assert_eq!(answer.1.as_object().unwrap().len(), 2, "{}", case.name);
        assert!(
            !answer.1.to_string().contains(API_KEY),
            "{}: the key is never echoed",
            case.name
        );
        // The very message the connect form shows for the same failure.
        let page = app.connect(&app.crm.url, case.key).await;
        assert_eq!(
            answer.1["errorMsg"].as_str().unwrap(),
            page.error_text(),
            "{}",
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

async fn a_signed_request_connects_and_lands_on_the_settings_page(db: Db) {
    let app = spawn_simple(db).await;
    let logs = capture_logs();

    // What the CRM does: the configuration request, then the register request to its URL.
    let config: Value = app.get("/simple-connection").await.json().await.unwrap();
    let register_path = config["registerUrl"]
        .as_str()
        .unwrap()
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let register = signed(API_KEY, &app.crm.url);
    let response = app
        .client
        .post(format!("{}{register_path}", app.address))
        .form(&[("register", register.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["success"], true, "{answer}");
    let account_url = answer["accountUrl"].as_str().unwrap();
    let client_id = account_url
        .strip_prefix(&format!("{PUBLIC_URL}/settings/"))
        .expect("accountUrl is the settings page")
        .to_owned();
    assert_eq!(client_id.len(), 64);

    // The same checks and registration as the form: the three calls, with the key.
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
    let modules = app.crm.registered_modules();
    assert_eq!(modules.len(), 1);
    assert_eq!(modules[0]["clientId"], client_id.as_str());
    assert_eq!(modules[0]["accountUrl"], account_url);

    // The merchant follows accountUrl and sees the account's settings page.
    let response = app.get(account_url.strip_prefix(PUBLIC_URL).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert_eq!(text_of(&html, "crm-url").unwrap(), app.crm.url);
    assert_eq!(text_of(&html, "status").unwrap(), "Active");
    assert_eq!(text_of(&html, "mg-endpoint").unwrap(), app.mg.url);
    assert_eq!(app.account_count().await, 1);

    // Neither the key nor its signature reached the log, though refusals and successes did.
    let _ = app
        .post_register(
            &json!({"token": "bad", "apiKey": API_KEY, "systemUrl": app.crm.url}).to_string(),
        )
        .await;
    let logs = logs.text();
    assert!(
        logs.contains("CRM account connected"),
        "nothing captured: {logs}"
    );
    assert!(logs.contains("simple connection refused"), "{logs}");
    assert!(!logs.contains(API_KEY), "the API key leaked: {logs}");
    assert!(
        !logs.contains(&token_for(SECRET, API_KEY)),
        "the token leaked: {logs}"
    );
}

async fn connecting_again_keeps_the_client_id(db: Db) {
    let app = spawn_simple(db).await;
    // First through the form, as a merchant who connected before the simple connection existed.
    let first = app.connect_fake_crm().await;
    app.crm.set(|s| s.mg_token = "second-token".into());

    // The CRM may send its address with a trailing slash.
    for system_url in [app.crm.url.clone(), format!("{}/", app.crm.url)] {
        let answer = app.post_register(&signed(API_KEY, &system_url)).await;
        assert_eq!(answer.0, StatusCode::OK, "{answer:?}");
        assert_eq!(
            answer.1,
            json!({"success": true, "accountUrl": format!("{PUBLIC_URL}/settings/{first}")})
        );
    }
    let modules = app.crm.registered_modules();
    assert_eq!(modules.len(), 3);
    assert!(modules.iter().all(|m| m["clientId"] == first.as_str()));
    assert_eq!(app.account_count().await, 1);
    let account = app
        .store
        .find_account_by_client_id(&mgbridge::domain::ClientId::parse(&first).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.mg_token.expose(), "second-token");
}
