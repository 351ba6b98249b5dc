//! The pages in the merchant's language (en, ru, es): `?lang=` first (kept in a `lang`
//! cookie), then the cookie, then `Accept-Language`, then English; `<html lang>` matches.

use reqwest::StatusCode;
use scraper::{Html, Selector};

use crate::helpers::{spawn_app, text_of, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    the_query_then_the_cookie_then_accept_language_then_english,
    the_settings_page_speaks_the_merchants_language,
    error_pages_speak_the_merchants_language,
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
