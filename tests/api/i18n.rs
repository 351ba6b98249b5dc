//! The pages in the merchant's language (en, ru, es): `?lang=` first (kept in a `lang`
//! cookie), then the cookie, then `Accept-Language`, then English; `<html lang>` matches.

use reqwest::StatusCode;
use scraper::{Html, Selector};

use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::fake_crm::API_KEY;
use crate::helpers::{input_value, spawn_app, spawn_app_with, text_of, Db, FormPage, TestApp};
use crate::on_both_databases;

on_both_databases!(
    the_query_then_the_cookie_then_accept_language_then_english,
    the_settings_page_speaks_the_merchants_language,
    error_pages_speak_the_merchants_language,
    a_russian_speaking_merchant_reads_why_connecting_failed_in_russian,
    a_spanish_speaking_merchant_reads_why_adding_a_bot_failed_in_spanish,
    the_simple_connection_answers_in_the_crms_accept_language,
    the_account_keeps_the_language_it_was_connected_in,
);

/// A browser of its own: its own cookie jar, following no redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

struct Page {
    status: StatusCode,
    lang_cookie: Option<String>,
    html: String,
}

impl Page {
    fn html_lang(&self) -> String {
        let doc = Html::parse_document(&self.html);
        doc.select(&Selector::parse("html").unwrap())
            .next()
            .and_then(|e| e.value().attr("lang"))
            .unwrap_or_default()
            .to_owned()
    }

    fn heading(&self) -> String {
        let doc = Html::parse_document(&self.html);
        doc.select(&Selector::parse("h1").unwrap())
            .next()
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .unwrap_or_default()
    }

    fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let doc = Html::parse_document(&self.html);
        doc.select(&Selector::parse(selector).unwrap())
            .next()
            .and_then(|e| e.value().attr(name))
            .map(str::to_owned)
    }
}

async fn open(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    accept_language: Option<&str>,
) -> Page {
    let mut request = browser.get(format!("{}{path}", app.address));
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    let response = request.send().await.unwrap();
    let lang_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lang="))
        .map(str::to_owned);
    Page {
        status: response.status(),
        lang_cookie,
        html: response.text().await.unwrap(),
    }
}

async fn the_query_then_the_cookie_then_accept_language_then_english(db: Db) {
    let app = spawn_app(db).await;
    let browser = browser();

    // Nothing said: English.
    let page = open(&app, &browser, "/", None).await;
    assert_eq!(page.html_lang(), "en");
    assert_eq!(page.heading(), "Connect your CRM");
    assert_eq!(page.lang_cookie, None);

    // Accept-Language, with a language we lack ahead of one we have.
    let page = open(&app, &browser, "/", Some("de-DE,ru-RU;q=0.8,en;q=0.5")).await;
    assert_eq!(page.html_lang(), "ru");
    assert_eq!(page.heading(), "Подключение CRM");
    assert_eq!(page.lang_cookie, None, "only ?lang= sets the cookie");

    // ?lang= beats Accept-Language, and is remembered.
    let page = open(
        &app,
        &browser,
        "/?account=https://x.example&lang=es",
        Some("ru"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html_lang(), "es");
    assert_eq!(page.heading(), "Conecte su CRM");
    let cookie = page
        .lang_cookie
        .clone()
        .expect("?lang= sets the lang cookie");
    assert!(cookie.starts_with("lang=es;"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    // The form keeps the language.
    assert_eq!(
        page.attr("form", "action").as_deref(),
        Some("/connect?lang=es")
    );

    // The cookie beats Accept-Language; an unknown ?lang= leaves the cookie's.
    let page = open(&app, &browser, "/", Some("ru")).await;
    assert_eq!(page.html_lang(), "es");
    let page = open(&app, &browser, "/?lang=de", Some("ru")).await;
    assert_eq!(page.html_lang(), "es");
    assert_eq!(page.lang_cookie, None);

    // A new ?lang= replaces the cookie.
    let page = open(&app, &browser, "/?lang=ru", None).await;
    assert_eq!(page.html_lang(), "ru");
    let page = open(&app, &browser, "/", Some("es")).await;
    assert_eq!(page.html_lang(), "ru");
    assert!(page.html.contains("Адрес CRM"), "{}", page.html);
    assert!(page.html.contains("Подключить"), "{}", page.html);
}

async fn the_settings_page_speaks_the_merchants_language(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    let path = format!("/settings/{client_id}");

    let page = open(&app, &browser(), &path, Some("ru")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html_lang(), "ru");
    assert_eq!(page.heading(), "CRM подключена");
    assert_eq!(text_of(&page.html, "status").unwrap(), "Работает");
    assert!(page.html.contains("Добавить бота"));
    assert_eq!(
        page.attr("#add-bot", "action"),
        Some(format!("{path}/bots?lang=ru"))
    );

    let page = open(&app, &browser(), &format!("{path}?lang=es"), Some("ru")).await;
    assert_eq!(page.html_lang(), "es");
    assert_eq!(page.heading(), "Su CRM está conectado");
    assert_eq!(text_of(&page.html, "status").unwrap(), "Activo");
    assert!(page.html.contains("Todavía no hay bots"));

    // English without a language, as before.
    let page = open(&app, &browser(), &path, None).await;
    assert_eq!(page.html_lang(), "en");
    assert_eq!(text_of(&page.html, "status").unwrap(), "Active");
}

async fn error_pages_speak_the_merchants_language(db: Db) {
    let app = spawn_app(db).await;

    // The unknown address, and a settings page of no account.
    let page = open(&app, &browser(), "/nothing-here", Some("es")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.html_lang(), "es");
    assert_eq!(page.heading(), "Página no encontrada");
    let page = open(
        &app,
        &browser(),
        &format!("/settings/{}", "ab".repeat(32)),
        Some("ru"),
    )
    .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.html_lang(), "ru");
    assert_eq!(page.heading(), "Страница не найдена");
    assert!(text_of(&page.html, "message")
        .unwrap()
        .contains("подключите CRM заново"));

    // A form without its CSRF token.
    let response = browser()
        .post(format!("{}/connect?lang=es", app.address))
        .form(&[("crm_url", "https://x.example"), ("api_key", "k")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    assert!(html.contains("Formulario caducado"), "{html}");
}

/// Submits the connect form as a browser would after opening `/{query}`.
async fn connect_in(
    app: &TestApp,
    browser: &reqwest::Client,
    query: &str,
    accept_language: Option<&str>,
    api_key: &str,
) -> FormPage {
    let page = open(app, browser, &format!("/{query}"), accept_language).await;
    let action = page.attr("form", "action").unwrap();
    let token = input_value(&page.html, "authenticity_token").unwrap();
    let mut request = browser.post(format!("{}{action}", app.address)).form(&[
        ("crm_url", app.crm.url.as_str()),
        ("api_key", api_key),
        ("authenticity_token", token.as_str()),
    ]);
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    FormPage::read(request.send().await.unwrap()).await
}

async fn a_russian_speaking_merchant_reads_why_connecting_failed_in_russian(db: Db) {
    let app = spawn_app(db).await;

    let page = connect_in(
        &app,
        &browser(),
        "",
        Some("ru-RU,ru;q=0.9,en;q=0.8"),
        "wrong-key",
    )
    .await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "CRM не принимает этот API-ключ",
        "wrong key, ru",
    );
    assert!(page.body.contains("<html lang=\"ru\">"));

    // The same with ?lang=es, whatever the browser says.
    let page = connect_in(&app, &browser(), "?lang=es", Some("ru"), "wrong-key").await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "El CRM no acepta esta clave API",
        "wrong key, es",
    );
    assert!(page.body.contains("<html lang=\"es\">"));

    // A refusal with arguments, nested texts included.
    let page = connect_in(&app, &browser(), "?lang=ru", None, "  ").await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Укажите API-ключ, созданный в CRM.",
        "empty key, ru",
    );
    let remembering = browser();
    let page = open(&app, &remembering, "/?lang=es", None).await;
    let token = input_value(&page.html, "authenticity_token");
    let response = remembering
        .post(format!("{}/connect", app.address))
        .form(&[
            ("crm_url", "https://acme.retailcrm.ru/admin"),
            ("api_key", API_KEY),
            ("authenticity_token", token.unwrap().as_str()),
        ])
        .send()
        .await
        .unwrap();
    let page = FormPage::read(response).await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "La dirección del CRM no es válida: introduzca solo la dirección del CRM, sin ruta",
        "a path, es (from the cookie)",
    );
    assert_eq!(app.account_count().await, 0);

    // English without a language, as before.
    let page = connect_in(&app, &browser(), "", None, "wrong-key").await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "The CRM does not accept this API key",
        "wrong key, en",
    );
}

async fn a_spanish_speaking_merchant_reads_why_adding_a_bot_failed_in_spanish(db: Db) {
    let app = spawn_app(db).await;
    let client_id = app.connect_fake_crm().await;
    let browser = browser();
    let page = open(
        &app,
        &browser,
        &format!("/settings/{client_id}?lang=es"),
        None,
    )
    .await;
    let action = page.attr("#add-bot", "action").unwrap();
    let token = input_value(&page.html, "authenticity_token").unwrap();
    let response = browser
        .post(format!("{}{action}", app.address))
        .form(&[
            ("bot_token", "not a token"),
            ("authenticity_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let page = FormPage::read(response).await;
    page.assert_refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Eso no parece un token de bot",
        "bad token, es",
    );
    assert!(page.body.contains("<html lang=\"es\">"));
}

async fn the_simple_connection_answers_in_the_crms_accept_language(db: Db) {
    const SECRET: &str = "partner-secret-1";
    let app = spawn_app_with(db, |s| {
        s.module.simple_connection_secret = Some(SecretString::from(SECRET.to_owned()))
    })
    .await;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"wrong-key");
    let token = hex::encode(mac.finalize().into_bytes());
    let register =
        json!({"token": token, "apiKey": "wrong-key", "systemUrl": app.crm.url}).to_string();

    let post = |accept_language: Option<&'static str>, register: String| {
        let mut request = app
            .client
            .post(format!("{}/simple-connection/register", app.address))
            .form(&[("register", register)]);
        if let Some(value) = accept_language {
            request = request.header("accept-language", value);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["success"], false, "{body}");
            body["errorMsg"].as_str().unwrap().to_owned()
        }
    };
    let message = post(Some("ru"), register.clone()).await;
    assert!(
        message.starts_with("CRM не принимает этот API-ключ"),
        "{message}"
    );
    let message = post(Some("es-ES,es;q=0.9"), register.clone()).await;
    assert!(
        message.starts_with("El CRM no acepta esta clave API"),
        "{message}"
    );
    let message = post(None, register.clone()).await;
    assert!(
        message.starts_with("The CRM does not accept this API key"),
        "{message}"
    );
    let message = post(Some("ru"), String::new()).await;
    assert!(message.starts_with("Данные не переданы"), "{message}");
}

async fn stored_language(app: &TestApp) -> mgbridge::i18n::Lang {
    let url = mgbridge::domain::CrmUrl::from_trusted(app.crm.url.clone());
    app.store
        .find_account_by_crm_url(&url)
        .await
        .unwrap()
        .expect("the account is stored")
        .language
}

async fn the_account_keeps_the_language_it_was_connected_in(db: Db) {
    use mgbridge::i18n::Lang;
    const SECRET: &str = "partner-secret-2";
    let app = spawn_app_with(db, |s| {
        s.module.simple_connection_secret = Some(SecretString::from(SECRET.to_owned()))
    })
    .await;

    // From the Russian page (Accept-Language).
    let page = connect_in(&app, &browser(), "", Some("ru"), API_KEY).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(stored_language(&app).await, Lang::Ru);

    // Connecting again from the Spanish page (?lang=es) changes it.
    let page = connect_in(&app, &browser(), "?lang=es", None, API_KEY).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(stored_language(&app).await, Lang::Es);

    // The simple connection: the CRM's Accept-Language, else English.
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(API_KEY.as_bytes());
    let token = hex::encode(mac.finalize().into_bytes());
    let register = json!({"token": token, "apiKey": API_KEY, "systemUrl": app.crm.url}).to_string();
    for (accept_language, want) in [(Some("ru-RU"), Lang::Ru), (None, Lang::En)] {
        let mut request = app
            .client
            .post(format!("{}/simple-connection/register", app.address))
            .form(&[("register", register.as_str())]);
        if let Some(value) = accept_language {
            request = request.header("accept-language", value);
        }
        let body: Value = request.send().await.unwrap().json().await.unwrap();
        assert_eq!(body["success"], true, "{body}");
        assert_eq!(stored_language(&app).await, want);
    }

    // Where the CRM names its language (`GET /api/v5/settings`), that one is kept, whatever the
    // page's; one we have no texts in leaves the page's.
    app.crm.set(|s| s.system_language = Some("ES"));
    let page = connect_in(&app, &browser(), "", Some("ru"), API_KEY).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(stored_language(&app).await, Lang::Es);
    app.crm.set(|s| s.system_language = Some("de"));
    let page = connect_in(&app, &browser(), "", Some("ru"), API_KEY).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert_eq!(stored_language(&app).await, Lang::Ru);
}
