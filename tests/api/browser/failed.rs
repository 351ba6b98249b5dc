//! The failed list in a real browser: a merchant sees the messages that did not get through,
//! discards one, retries one, and retries the rest with Retry all.

use fantoccini::Locator;

use super::{click, Browser};
use crate::bridge::text_update;
use crate::helpers::{spawn_bridge, wait_for, Db};

const CHAT: i64 = 4_200_000_001;

#[tokio::test]
async fn a_merchant_discards_and_retries_failed_deliveries() {
    let (app, bridge) = spawn_bridge(Db::Sqlite).await;
    app.mg.fail_next_on("/messages", 3, 400);
    for (id, text) in [(1, "first"), (2, "second"), (3, "third")] {
        app.post_telegram_update(&bridge, &text_update(id, CHAT, id, text))
            .await;
    }
    app.wait_for_jobs("failed", 3).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let settings = format!("{}/settings/{}", app.address, bridge.client_id);

    c.goto(&settings).await.unwrap();
    let rows = c.find_all(Locator::Css("tr.failure")).await.unwrap();
    assert_eq!(rows.len(), 3);
    let newest = rows[0].text().await.unwrap();
    assert!(
        newest.contains("The CRM's chat refused the message."),
        "{newest}"
    );
    assert!(newest.contains("Ann"), "{newest}");
    assert!(newest.contains("Customer → CRM"), "{newest}");
    let alert = c.find(Locator::Css("#failed-alert")).await.unwrap();
    assert!(
        alert.text().await.unwrap().contains("(3)"),
        "the page says so at the top"
    );
    c.execute("document.getElementById('failed').scrollIntoView()", vec![])
        .await
        .unwrap();
    super::screenshot(c, "failed-list").await;
    // Newest first: the third message's row is on top. Discard it.
    let top = rows[0].attr("data-job").await.unwrap().unwrap();
    click(c, &format!("tr[data-job='{top}'] button[name=discard]")).await;
    let rows = c.find_all(Locator::Css("tr.failure")).await.unwrap();
    assert_eq!(rows.len(), 2);

    // Retry the oldest (the first message): it alone reaches the CRM.
    c.goto(&settings).await.unwrap();
    let rows = c.find_all(Locator::Css("tr.failure")).await.unwrap();
    let oldest = rows[1].attr("data-job").await.unwrap().unwrap();
    click(c, &format!("tr[data-job='{oldest}'] button[name=retry]")).await;
    wait_for("the retried message", || {
        let texts = app.mg.texts_in(CHAT);
        (texts == ["first"]).then_some(())
    })
    .await;

    // Retry all takes what is left.
    c.goto(&settings).await.unwrap();
    let rows = c.find_all(Locator::Css("tr.failure")).await.unwrap();
    assert_eq!(rows.len(), 1);
    click(c, "#retry-all button[name=retry_all]").await;
    wait_for("every retried message", || {
        (app.mg.texts_in(CHAT) == ["first", "second"]).then_some(())
    })
    .await;
    app.wait_for_jobs("queued", 0).await;
    c.goto(&settings).await.unwrap();
    let empty = c.find(Locator::Css("#no-failed")).await.unwrap();
    assert!(
        empty.text().await.unwrap().contains("No failed deliveries"),
        "the list says it is empty"
    );
    assert!(c.find(Locator::Css("#retry-all")).await.is_err());
    browser.close().await;
}
