//! The webhook test vectors of `protocol/transport-api.md` §9 (V12–V17), and tolerance.

use super::*;
use crate::mg::{Cost, OrderStatusCode};
use serde_json::json;

fn parse(value: Value) -> MgWebhook {
    MgWebhook::parse(value.to_string().as_bytes()).unwrap()
}

#[test]
fn v12_message_sent_with_quote_and_suggestions() {
    let hook = parse(
        json!({"type": "message_sent", "meta": {"timestamp": 1782900600},
     "data": {"id": 123460, "channel_id": 305, "external_chat_id": "chat-99001", "external_user_id": "u-5001",
              "type": "text", "content": "Yes, we have it in red!", "quote_external_id": "m-777",
              "quote_content": "Is it available in red?",
              "user": {"id": 17, "first_name": "Oleg", "last_name": "P", "avatar": ""},
              "customer": {"first_name": "Anna", "last_name": "K", "avatar": ""},
              "attachments": {"suggestions": [{"type": "text", "title": "Order now"},
                                              {"type": "url", "title": "Open catalog", "payload": "https://shop.example/red"}]}}}),
    );
    assert_eq!(hook.kind(), "message_sent");
    let MgWebhook::MessageSent(m) = hook else {
        panic!("{hook:?}")
    };
    assert_eq!(m.id, 123460);
    assert_eq!(m.channel_id, 305);
    assert_eq!(m.external_chat_id, "chat-99001");
    assert_eq!(m.r#type, Some(MessageType::Text));
    assert_eq!(m.content.as_deref(), Some("Yes, we have it in red!"));
    assert_eq!(m.quote_external_id.as_deref(), Some("m-777"));
    assert_eq!(m.user.unwrap().id, Some(17));
    let suggestions = m.attachments.unwrap().suggestions;
    assert_eq!(suggestions.len(), 2);
    assert_eq!(suggestions[1].r#type, SuggestionType::Url);
    assert_eq!(
        suggestions[1].payload.as_deref(),
        Some("https://shop.example/red")
    );
    assert!(m.items.is_empty() && m.order.is_none() && m.product.is_none());
}

#[test]
fn v13_message_sent_with_a_template_and_nulls() {
    let hook = parse(
        json!({"type": "message_sent", "meta": {"timestamp": 1782900700},
     "data": {"id": 123461, "channel_id": 305, "external_chat_id": "", "external_user_id": "79998887766",
              "type": "text", "content": "Order No. 8061C accepted", "quote_external_id": null, "quote_content": null,
              "bot": {"id": 760, "name": "Bot system", "avatar": ""},
              "template": {"code": "ns#thanks_for_order#ru", "category": "utility",
                           "variables": {"body": {"args": ["8061C", 17400]},
                                         "buttons": [{"type": "url", "title": "Track", "args": ["8061"]}]}}}}),
    );
    let MgWebhook::MessageSent(m) = hook else {
        panic!("{hook:?}")
    };
    assert_eq!(m.external_chat_id, "");
    assert_eq!(m.external_user_id, "79998887766");
    assert_eq!(m.quote_external_id, None);
    assert_eq!(m.bot.unwrap().name.as_deref(), Some("Bot system"));
    let template = m.template.unwrap();
    assert_eq!(template.code.as_deref(), Some("ns#thanks_for_order#ru"));
    let variables = template.variables.unwrap();
    assert_eq!(variables.body.unwrap().args, ["8061C", "17400"]);
    assert_eq!(variables.buttons[0].title.as_deref(), Some("Track"));
}

#[test]
fn v15_v16_v17_other_webhooks() {
    let hook = parse(
        json!({"type": "message_updated", "meta": {"timestamp": 1782900800},
     "data": {"channel_id": 305, "external_chat_id": "chat-99001", "external_user_id": "u-5001",
              "external_message_id": "out-556", "type": "text", "content": "Yes, we have it in red and blue!"}}),
    );
    let MgWebhook::MessageUpdated(u) = hook else {
        panic!("{hook:?}")
    };
    assert_eq!(u.external_message_id, "out-556");
    assert_eq!(
        u.content.as_deref(),
        Some("Yes, we have it in red and blue!")
    );
    assert_eq!(u.id, None);

    let hook = parse(
        json!({"type": "message_deleted", "meta": {"timestamp": 1782900900},
     "data": {"channel_id": 305, "external_chat_id": "chat-99001", "external_user_id": "u-5001", "external_message_id": "out-556"}}),
    );
    assert!(
        matches!(&hook, MgWebhook::MessageDeleted(d) if d.external_message_id == "out-556" && d.channel_id == 305)
    );
    let hook = parse(
        json!({"type": "message_read", "meta": {"timestamp": 1782901000},
     "data": {"channel_id": 305, "external_chat_id": "chat-99001", "external_user_id": "u-5001", "external_message_id": "m-777"}}),
    );
    assert!(matches!(&hook, MgWebhook::MessageRead(r) if r.external_message_id == "m-777"));

    let hook = parse(
        json!({"type": "reaction_add", "meta": {"timestamp": 1782901100},
     "data": {"channel_id": 305, "external_chat_id": "chat-99001", "external_user_id": "u-5001",
              "external_message_id": "m-777", "new_reaction": "❤️", "old_reaction": "👍",
              "all_reactions": [{"reaction": "❤️"}]}}),
    );
    let MgWebhook::ReactionAdd(r) = hook else {
        panic!("{hook:?}")
    };
    assert_eq!(r.new_reaction.as_deref(), Some("❤️"));
    assert_eq!(r.old_reaction.as_deref(), Some("👍"));
    assert_eq!(
        r.all_reactions,
        [ReactionItem {
            reaction: "❤️".into()
        }]
    );
    let hook = parse(json!({"type": "reaction_delete", "meta": {"timestamp": 1},
     "data": {"channel_id": 305, "external_chat_id": "1", "external_message_id": "1:2", "old_reaction": "👍"}}));
    assert!(matches!(&hook, MgWebhook::ReactionDelete(r) if r.new_reaction.is_none()));

    let hook = parse(
        json!({"type": "template_create", "meta": {"timestamp": 1782901200},
     "data": {"channel_id": 305, "name": "Order shipped", "lang": "en", "category": "utility",
              "body": "Hi {{1}}, your order {{2}} has shipped.",
              "header": {"content": {"type": "text", "body": "Shipping update"}},
              "footer": "Shop Inc.",
              "buttons": {"items": [{"type": "url", "label": "Track", "url": "https://shop.example/t/{{1}}"}]},
              "example": {"body": ["Anna", "8061C"], "buttons": [["8061C"]]}}}),
    );
    let MgWebhook::TemplateCreate(t) = hook else {
        panic!("{hook:?}")
    };
    assert_eq!(t.name.as_deref(), Some("Order shipped"));
    assert_eq!(t.lang.as_deref(), Some("en"));
    assert_eq!(t.buttons.unwrap().items[0].label, "Track");
    assert_eq!(t.example.unwrap().body, ["Anna", "8061C"]);
    assert!(t.header.is_some());

    let hook = parse(
        json!({"type": "template_delete", "data": {"channel_id": 305, "code": "x#y", "lang": "en"}}),
    );
    assert!(matches!(&hook, MgWebhook::TemplateDelete(t) if t.code.as_deref() == Some("x#y")));
}

#[test]
fn unknown_types_parse_and_missing_essentials_do_not() {
    let hook = parse(
        json!({"type": "dialog_closed", "meta": {"id": 9, "timestamp": 1}, "data": {"x": 1}}),
    );
    assert_eq!(hook, MgWebhook::Unknown("dialog_closed".into()));
    assert_eq!(hook.kind(), "dialog_closed");
    // No data at all is fine for kinds answered at once.
    assert!(matches!(
        parse(json!({"type": "message_read"})),
        MgWebhook::MessageRead(_)
    ));
    assert!(MgWebhook::parse(b"not json").is_err());
    assert!(MgWebhook::parse(br#"{"data": {}}"#).is_err());
    assert!(MgWebhook::parse(br#"{"type": "message_sent", "data": {"channel_id": 1}}"#).is_err());
}

#[test]
fn cards_are_read_tolerantly_paid_and_payed_alike() {
    let hook = parse(json!({"type": "message_sent", "data": {
        "id": 1, "channel_id": 2, "external_chat_id": "5", "type": "order",
        "items": [{"id": "aa4ff988-bafb-43a0-9551-b8e00f677e34", "size": 10}, {"no_id": true}],
        "order": {
            "number": "8061C", "date": "01.07.2026 10:00",
            "status": {"code": "new", "name": "New"},
            "cost": {"value": 17400, "currency": "RUB"},
            "items": [
                {"name": "Red dress", "price": {"value": 8700, "currency": "RUB"}, "quantity": {"value": 2}},
                {"name": "Odd", "price": "free"}
            ],
            "payments": [
                {"name": "Card", "amount": {"value": 17400, "currency": "RUB"}, "status": {"name": "Paid", "paid": true}},
                {"name": "Cash", "status": {"name": "Not yet", "payed": false}}
            ]
        }
    }}));
    let MgWebhook::MessageSent(m) = hook else {
        panic!("{hook:?}")
    };
    assert_eq!(m.items.len(), 1, "the item without an id is dropped");
    let order = m.order.unwrap();
    assert_eq!(order.number.as_deref(), Some("8061C"));
    assert_eq!(
        order.date, None,
        "a free-text date is dropped, not the order"
    );
    assert_eq!(order.status.unwrap().code, Some(OrderStatusCode::New));
    let items = order.items.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].name.as_deref(), Some("Odd"));
    assert_eq!(items[1].price, None);
    let payments = order.payments.unwrap();
    assert_eq!(payments[0].status.as_ref().unwrap().payed, Some(true));
    assert_eq!(payments[1].status.as_ref().unwrap().payed, Some(false));

    let hook = parse(json!({"type": "message_sent", "data": {
        "id": 1, "channel_id": 2, "type": "product",
        "product": {"name": "Red dress", "cost": {"value": 99.5, "currency": "EUR"}, "id": "not a number"}
    }}));
    let MgWebhook::MessageSent(m) = hook else {
        panic!("{hook:?}")
    };
    let product = m.product.unwrap();
    assert_eq!(product.name, "Red dress");
    assert_eq!(product.id, None);
    assert_eq!(
        product.cost,
        Some(Cost {
            value: 99.5,
            currency: "EUR".into()
        })
    );
}
