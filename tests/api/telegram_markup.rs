//! Text markup both ways, through the real service against the fakes: a customer's bold,
//! italic and links reach MG as MG's markup, an operator's markup reaches Telegram as HTML,
//! and `<`, `&` and quotes survive MG's escaping on the way. The channel declares the formats.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_bridge, wait_for, Db};
use crate::on_both_databases;

on_both_databases!(
    a_customers_formatting_reaches_mg_as_markup,
    an_operators_markup_reaches_telegram_as_html,
);

const CHAT: i64 = 7_100_000_044;

async fn a_customers_formatting_reaches_mg_as_markup(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let channel = app.mg.channels().pop().unwrap();
    assert_eq!(
        channel.settings["text"]["markup_formats"],
        json!([
            "bold",
            "italic",
            "underline",
            "strikethrough",
            "link",
            "inline_monospace",
            "block_monospace"
        ])
    );
    // "🛒" is two UTF-16 units: the entities after it are counted in those.
    let text = "🛒 Cart: 2 × <mug> & \"gift\" — pay here, code A&B";
    let update = json!({"update_id": 1, "message": {
        "message_id": 10, "date": 1_790_000_000,
        "from": {"id": CHAT, "is_bot": false, "first_name": "Bo", "language_code": "en"},
        "chat": {"id": CHAT, "type": "private", "first_name": "Bo"},
        "text": text,
        "entities": [
            {"type": "bold", "offset": 3, "length": 5},
            {"type": "italic", "offset": 13, "length": 5},
            {"type": "text_link", "offset": 30, "length": 8, "url": "https://pay.example/?o=1&s=\"x\""},
            {"type": "code", "offset": 45, "length": 3}
        ]
    }});
    let answer = app.post_telegram_update(&bridge, &update).await;
    assert_eq!(answer.status(), StatusCode::OK);

    let body = wait_for("the message at MG", || {
        app.mg
            .requests_to(&Method::POST, "/messages")
            .into_iter()
            .find(|r| r.status != 0)
            .and_then(|r| r.body)
    })
    .await;
    assert_eq!(
        body["message"]["text"],
        "🛒 **Cart:** 2 × *<mug>* & \"gift\" — [pay here](https://pay.example/?o=1&s=\"x\"), \
         code `A&B`"
    );
}

async fn an_operators_markup_reaches_telegram_as_html(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // As MG sends it: its own escaping of `<`, `&` and quotes, with the operator's markup.
    let content = "🎁 **Gift &lt;wrap&gt;** &amp; __card__, ~~5 €~~ *free*: \
                   [&quot;track&quot;](https://shop.example/t?a=1&amp;b=2) `A&amp;B`\n\
                   ```\nsize: &lt;M&gt;\n```";
    let webhook = json!({"type": "message_sent", "meta": {"timestamp": 1_790_000_000},
        "data": {"id": 1, "type": "text", "content": content,
                 "channel_id": bridge.mg_channel_id, "external_chat_id": CHAT.to_string(),
                 "external_user_id": CHAT.to_string()}});
    let answer = app.post_mg_webhook(&bridge.client_id, &webhook).await;
    assert_eq!(answer.status(), StatusCode::OK);

    let call = wait_for("sendMessage", || app.telegram.last_call_to("sendMessage")).await;
    assert_eq!(call.params["parse_mode"], "HTML");
    assert_eq!(
        call.params["text"].as_str().unwrap(),
        "🎁 <b>Gift &lt;wrap&gt;</b> &amp; <u>card</u>, <s>5 €</s> <i>free</i>: \
         <a href=\"https://shop.example/t?a=1&amp;b=2\">\"track\"</a> <code>A&amp;B</code>\n\
         <pre>size: &lt;M&gt;</pre>"
    );
}
