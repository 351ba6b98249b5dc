//! The wire forms of `types`: field names, the test vectors, tolerant answers.

use super::*;
use serde_json::json;

#[test]
fn field_names_follow_each_endpoint() {
    let message = MessageIdentifier::external_id("m-778");
    let delete = DeleteMessageRequest {
        channel: MgChannelId(305),
        message: message.clone(),
    };
    assert_eq!(
        serde_json::to_value(&delete).unwrap(),
        json!({"channel": 305, "message": {"external_id": "m-778"}})
    );
    let read = MarkReadRequest {
        channel_id: MgChannelId(305),
        message: MessageIdentifier::id(MgMessageId(123460)),
    };
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        json!({"channel_id": 305, "message": {"id": 123460}})
    );
}

#[test]
fn the_activation_test_vector_round_trips() {
    // protocol/transport-api.md §9 V1.
    let v1 = json!({
      "type": "custom", "external_id": "acct42-bot7", "name": "@shop_support_bot",
      "avatar_url": "https://cdn.example.com/bot7.png",
      "settings": {
        "status": {"delivered": "send", "read": "both"},
        "text": {"creating": "both", "editing": "both", "quoting": "both", "deleting": "both",
                 "reaction": "both", "max_chars_count": 4096},
        "image": {"creating": "both", "editing": "none", "quoting": "both", "deleting": "receive",
                  "reaction": "both", "max_items_count": 10, "note_max_chars_count": 1024, "max_item_size": 10485760},
        "file": {"creating": "both", "editing": "none", "quoting": "both", "deleting": "receive",
                 "reaction": "none", "max_items_count": 1, "note_max_chars_count": 1024, "max_item_size": 52428800},
        "audio": {"creating": "both", "quoting": "receive", "deleting": "receive", "reaction": "none",
                  "max_items_count": 1, "max_item_size": 10485760},
        "product": {"creating": "receive", "editing": "receive", "deleting": "receive", "quoting": "none", "reaction": "none"},
        "order": {"creating": "receive", "editing": "receive", "deleting": "receive", "quoting": "none", "reaction": "none"},
        "reactions": {"dictionary": ["👍", "❤️", "😂"], "max_count": 1},
        "suggestions": {"text": "both", "phone": "none", "email": "none", "url": "both"},
        "sending_policy": {"new_customer": "no", "after_reply_timeout": "no", "outgoing": "allowed"},
        "customer_external_id": "any",
        "template": {"creation": false}
      }
    });
    let settings: ChannelSettings = serde_json::from_value(v1["settings"].clone()).unwrap();
    let request = ActivateChannelRequest {
        id: None,
        r#type: "custom".into(),
        name: Some("@shop_support_bot".into()),
        external_id: Some("acct42-bot7".into()),
        avatar_url: Some("https://cdn.example.com/bot7.png".into()),
        settings: Some(settings),
    };
    assert_eq!(serde_json::to_value(&request).unwrap(), v1);
}

#[test]
fn answers_are_read_tolerantly() {
    // V3, with a feature value and a timestamp this code does not know.
    let channels: Vec<Channel> = serde_json::from_value(json!([{
        "id": 305, "external_id": "acct42-bot7", "type": "custom", "name": "@shop_support_bot",
        "settings": {"text": {"creating": "any", "max_chars_count": 4096}},
        "is_active": true, "created_at": "2026-07-01T10:00:00.123456Z",
        "activated_at": "2021-08-02T10:11:12", "updated_at": null, "deactivated_at": null
    }]))
    .unwrap();
    assert_eq!(channels[0].id, MgChannelId(305));
    assert!(channels[0].settings.is_none());
    assert!(channels[0].created_at.is_some());
    assert!(channels[0].activated_at.is_some());
    let file: FileInfo = serde_json::from_value(json!({
        "id": "aa4ff988-bafb-43a0-9551-b8e00f677e34", "type": "image", "mime_type": "image/jpeg",
        "size": 71984, "Url": "https://s3.mg.example/x", "url": "https://s3.mg.example/x"
    }))
    .unwrap();
    assert_eq!(file.download_url(), Some("https://s3.mg.example/x"));
    let paid: PaymentStatus = serde_json::from_value(json!({"name": "ok", "paid": true})).unwrap();
    assert_eq!(paid.payed, Some(true));
}

#[test]
fn template_items_use_the_proven_wire_form_and_read_both() {
    let items = vec![
        TemplateItem::Text("Hi ".into()),
        TemplateItem::FirstName,
        TemplateItem::Text(", your order ".into()),
        TemplateItem::Custom,
    ];
    let wire = serde_json::to_value(&items).unwrap();
    assert_eq!(
        wire,
        json!(["Hi ", {"var": "first_name"}, ", your order ", {}])
    );
    let back: Vec<TemplateItem> = serde_json::from_value(wire).unwrap();
    assert_eq!(back, items);
    let generated: Vec<TemplateItem> =
        serde_json::from_value(json!([{"type": 1, "text": "Hi "}, {"type": 2, "var": 2}])).unwrap();
    assert_eq!(generated, items[..2]);
}
