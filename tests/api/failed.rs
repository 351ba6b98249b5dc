//! The failed list, as a merchant uses it on the settings page and an operator from the CLI:
//! a message refused for good is listed with why and its attempts; Retry delivers it once, at
//! the end of its chat's lane; Discard deletes it; the forms are CSRF-checked and per account.

use reqwest::{Method, StatusCode};

use crate::bridge::{operator_message, text_update};
use crate::fake_telegram::Failure;
use crate::helpers::{input_value, metric, spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

const CHAT: i64 = 4_200_000_001;
const OTHER_CHAT: i64 = 4_200_000_002;

on_both_databases!(
    a_refused_message_is_listed_and_retry_delivers_it_once,
    an_operators_message_telegram_refuses_is_listed_and_retried,
    discard_removes_it_and_its_words,
    retry_all_puts_them_after_what_came_meanwhile,
    the_forms_check_their_token_and_account,
    the_cli_lists_and_retries,
    a_long_list_is_paged,
);

/// Rows per page of the list (web/failures.rs).
const PAGE: usize = 20;

/// The ids of the failed list's rows, top to bottom.
fn listed_jobs(html: &str) -> Vec<String> {
    html.split("class=\"failure\" data-job=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// The HTML of one row of the failed list.
fn row_html<'a>(html: &'a str, job: &str) -> &'a str {
    let start = html
        .find(&format!("data-job=\"{job}\""))
        .expect("the row is listed");
    let end = html[start..].find("</tr>").unwrap();
    &html[start..start + end]
}

/// Presses a button of the settings page: posts its form with the page's CSRF token.
async fn press(app: &TestApp, bridge: &Bridge, action: &str, button: &str) -> reqwest::Response {
    let html = app.settings_html(&bridge.client_id).await;
    let csrf = input_value(&html, "authenticity_token").expect("the page has a CSRF token");
    app.client
        .post(format!(
            "{}/settings/{}/failed/{action}",
            app.address, bridge.client_id
        ))
        .form(&[("authenticity_token", csrf.as_str()), (button, "1")])
        .send()
        .await
        .unwrap()
}

async fn wait_for_listed(app: &TestApp, bridge: &Bridge, n: usize) -> Vec<String> {
    app.wait_for_jobs("failed", n as i64).await;
    let jobs = listed_jobs(&app.settings_html(&bridge.client_id).await);
    assert_eq!(jobs.len(), n, "{jobs:?}");
    jobs
}

async fn a_refused_message_is_listed_and_retry_delivers_it_once(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // A 400 cannot pass on retry: the job fails at once and its chat moves on.
    app.mg.fail_next_on("/messages", 1, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "refused"))
        .await;
    app.post_telegram_update(&bridge, &text_update(2, CHAT, 2, "next"))
        .await;
    wait_for("the next message", || {
        (app.mg.texts_in(CHAT) == ["next"]).then_some(())
    })
    .await;
    let jobs = wait_for_listed(&app, &bridge, 1).await;
    let html = app.settings_html(&bridge.client_id).await;
    let row = row_html(&html, &jobs[0]);
    assert!(
        row.contains("The CRM&#39;s chat refused the message.")
            || row.contains("The CRM's chat refused the message."),
        "{row}"
    );
    assert!(row.contains("Customer → CRM"), "{row}");
    assert!(row.contains("Ann"), "the customer's name: {row}");
    assert!(row.contains("42••••••01"), "the chat id, masked: {row}");
    assert!(
        !row.contains(&CHAT.to_string()),
        "the chat id in clear: {row}"
    );
    assert!(
        !row.contains("refused</"),
        "no message text on the page: {row}"
    );
    assert_eq!(row.matches("class=\"attempt\"").count(), 1, "{row}");
    assert!(row.contains("failed for good"), "{row}");
    assert!(html.contains("name=\"retry_all\""), "{html}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        metric(
            &metrics,
            "mgbridge_failures_total{reason=\"refused_by_mg\"}"
        ),
        1.0
    );

    // MG takes it now: Retry delivers it, after the chat's later message, exactly once.
    let retried = press(&app, &bridge, &format!("{}/retry", jobs[0]), "retry").await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    wait_for("the retried message", || {
        (app.mg.texts_in(CHAT) == ["next", "refused"]).then_some(())
    })
    .await;
    app.wait_for_jobs("queued", 0).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
    assert_eq!(app.mg.texts_in(CHAT), ["next", "refused"]);
    let html = app.settings_html(&bridge.client_id).await;
    assert!(html.contains("id=\"no-failed\""), "{html}");
    // The old row's buttons lead nowhere now.
    let again = press(&app, &bridge, &format!("{}/retry", jobs[0]), "retry").await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn an_operators_message_telegram_refuses_is_listed_and_retried(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // Two tries that may pass, then a refusal that cannot: three attempts in the history.
    app.telegram
        .fail_times("sendMessage", Failure::server_error(), 2);
    app.post_mg_webhook(
        &bridge.client_id,
        &operator_message(&bridge, 42, CHAT, "hello"),
    )
    .await;
    wait_for("two failed tries", || {
        (app.telegram.calls_to("sendMessage").len() >= 2).then_some(())
    })
    .await;
    app.telegram.fail(
        "sendMessage",
        Failure::api(400, "Bad Request: message text is empty"),
    );
    let jobs = wait_for_listed(&app, &bridge, 1).await;
    let html = app.settings_html(&bridge.client_id).await;
    let row = row_html(&html, &jobs[0]);
    assert!(row.contains("CRM → customer"), "{row}");
    assert!(row.contains("The messenger refused the message."), "{row}");
    assert_eq!(row.matches("class=\"attempt\"").count(), 3, "{row}");
    assert_eq!(row.matches("failed, retried later").count(), 2, "{row}");
    // MG was told it failed.
    wait_for("the failure ack", || {
        app.mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .find_map(|r| r.body.filter(|b| b["error"].is_object()))
    })
    .await;

    app.telegram.clear_failures();
    let before = app.telegram.messages_to(CHAT).len();
    let retried = press(&app, &bridge, &format!("{}/retry", jobs[0]), "retry").await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    wait_for("the retried message", || {
        (app.telegram.messages_to(CHAT).len() > before).then_some(())
    })
    .await;
    app.wait_for_jobs("queued", 0).await;
    let sent: Vec<_> = app
        .telegram
        .messages_to(CHAT)
        .into_iter()
        .filter(|m| m.text.as_deref() == Some("hello"))
        .collect();
    assert_eq!(sent.len(), 1, "delivered exactly once: {sent:?}");
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

async fn discard_removes_it_and_its_words(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.mg.fail_next_on("/messages", 1, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "discard me"))
        .await;
    let jobs = wait_for_listed(&app, &bridge, 1).await;
    let discarded = press(&app, &bridge, &format!("{}/discard", jobs[0]), "discard").await;
    assert_eq!(discarded.status(), StatusCode::SEE_OTHER);
    let html = app.settings_html(&bridge.client_id).await;
    assert!(listed_jobs(&html).is_empty(), "{html}");
    assert!(!html.contains("name=\"retry_all\""), "{html}");
    let words: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM job WHERE payload LIKE '%discard me%'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(words, 0, "the customer's words are gone");
    // Discarded is final: it cannot be retried, and the same update posted again is a repeat.
    let retried = press(&app, &bridge, &format!("{}/retry", jobs[0]), "retry").await;
    assert_eq!(retried.status(), StatusCode::NOT_FOUND);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "discard me"))
        .await;
    app.wait_for_jobs("queued", 0).await;
    assert!(app.mg.texts_in(CHAT).is_empty());
}

async fn retry_all_puts_them_after_what_came_meanwhile(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.mg.fail_next_on("/messages", 3, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "one"))
        .await;
    app.post_telegram_update(&bridge, &text_update(2, CHAT, 2, "two"))
        .await;
    app.post_telegram_update(&bridge, &text_update(3, OTHER_CHAT, 3, "other"))
        .await;
    wait_for_listed(&app, &bridge, 3).await;
    app.post_telegram_update(&bridge, &text_update(4, CHAT, 4, "three"))
        .await;
    wait_for("the later message", || {
        (app.mg.texts_in(CHAT) == ["three"]).then_some(())
    })
    .await;
    let retried = press(&app, &bridge, "retry-all", "retry_all").await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    wait_for("every retried message", || {
        (app.mg.texts_in(CHAT).len() == 3 && app.mg.texts_in(OTHER_CHAT).len() == 1).then_some(())
    })
    .await;
    // A retried message goes to the end of its lane, the retried ones in their own order.
    assert_eq!(app.mg.texts_in(CHAT), ["three", "one", "two"]);
    assert_eq!(app.mg.texts_in(OTHER_CHAT), ["other"]);
    app.wait_for_jobs("queued", 0).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

async fn the_forms_check_their_token_and_account(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.mg.fail_next_on("/messages", 1, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "kept"))
        .await;
    let jobs = wait_for_listed(&app, &bridge, 1).await;
    let url =
        |client: &str, action: &str| format!("{}/settings/{client}/failed/{action}", app.address);
    // No token, a wrong one, another account's page, a job id that is not one.
    let no_token = app
        .client
        .post(url(&bridge.client_id, &format!("{}/retry", jobs[0])))
        .form(&[("retry", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let wrong = app
        .client
        .post(url(&bridge.client_id, "retry-all"))
        .form(&[("authenticity_token", "forged"), ("retry_all", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let html = app.settings_html(&bridge.client_id).await;
    let csrf = input_value(&html, "authenticity_token").unwrap();
    let other_account = app
        .client
        .post(url("unknown-client", &format!("{}/discard", jobs[0])))
        .form(&[("authenticity_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(other_account.status(), StatusCode::NOT_FOUND);
    let not_an_id = app
        .client
        .post(url(&bridge.client_id, "x1/retry"))
        .form(&[("authenticity_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(not_an_id.status(), StatusCode::NOT_FOUND);
    // Nothing changed.
    assert_eq!(
        listed_jobs(&app.settings_html(&bridge.client_id).await),
        jobs
    );
    assert!(app.mg.texts_in(CHAT).is_empty());
}

async fn the_cli_lists_and_retries(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.mg.fail_next_on("/messages", 1, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "via the cli"))
        .await;
    let jobs = wait_for_listed(&app, &bridge, 1).await;
    let cli = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mgbridge"));
        command
            .args(args)
            .env("MGBRIDGE__DATABASE__URL", &app.database.url)
            .env("MGBRIDGE__LOG__FORMAT", "pretty");
        if db == Db::Postgres {
            command.env("MGBRIDGE__SECURITY__ENCRYPTION_KEY", "ab".repeat(32));
        }
        // Off the test's runtime, which also runs the service: blocking it would stall the
        // service mid-transaction and the CLI behind the service's locks.
        async move {
            tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
                .await
                .unwrap()
        }
    };
    let listed = cli(&["jobs", "failed", "--account", &app.crm.url]).await;
    let out = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(out.starts_with("1 failed deliveries"), "{out}");
    assert!(
        out.contains(&jobs[0]) && out.contains("refused_by_mg"),
        "{out}"
    );
    assert!(!out.contains("via the cli"), "no message text: {out}");

    let unknown = cli(&["jobs", "retry", "12345"]).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no failed job has that id"));
    assert_eq!(app.jobs_in_state("failed").await, 1);

    let retried = cli(&["jobs", "retry", "--all"]).await;
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    assert!(String::from_utf8_lossy(&retried.stdout).starts_with("1 failed deliveries sent back"));
    // The running service finds it at its next poll.
    wait_for("the retried message", || {
        (app.mg.texts_in(CHAT) == ["via the cli"]).then_some(())
    })
    .await;
}

async fn a_long_list_is_paged(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let n = PAGE + 1;
    app.mg.fail_next_on("/messages", n, 400);
    for i in 0..n as i64 {
        app.post_telegram_update(&bridge, &text_update(i + 1, CHAT + i, i + 1, "x"))
            .await;
    }
    app.wait_for_jobs("failed", n as i64).await;
    let first = app.settings_html(&bridge.client_id).await;
    assert_eq!(listed_jobs(&first).len(), PAGE);
    assert!(
        first.contains("1 / 2") && first.contains("rel=\"next\""),
        "{first}"
    );
    assert!(
        first.contains(&format!("({n})")),
        "Retry all counts every page: {first}"
    );
    let second = app
        .get(&format!("/settings/{}?failed_page=2", bridge.client_id))
        .await
        .text()
        .await
        .unwrap();
    let last = listed_jobs(&second);
    assert_eq!(last.len(), 1);
    assert!(!listed_jobs(&first).contains(&last[0]));
    // The oldest is on the last page; a page past the end shows the last one.
    let past = app
        .get(&format!("/settings/{}?failed_page=9", bridge.client_id))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(listed_jobs(&past), last);
    let retried = press(&app, &bridge, "retry-all", "retry_all").await;
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    app.wait_for_jobs("failed", 0).await;
}
