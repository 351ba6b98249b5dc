//! Every operation, and its body against the OpenAPI schema.

use super::fixtures::*;
use super::*;

/// Calls every operation of the Transport API with realistic, fully filled requests.
pub(super) async fn exercise_every_operation(fake: &FakeMg, api: &MgApi) {
    let activated = api
        .activate_channel(&ActivateChannelRequest {
            id: None,
            r#type: "telegram".into(),
            name: Some("@shop_support_bot".into()),
            external_id: Some("7123456789".into()),
            avatar_url: Some("https://cdn.example.com/bot7.png".into()),
            settings: Some(full_settings()),
        })
        .await
        .unwrap();
    let channel = activated.id;
    assert_eq!(channel, MgChannelId(1));
    api.update_channel(
        channel,
        &UpdateChannelRequest {
            r#type: Some("telegram".into()),
            name: Some("@shop_support_bot".into()),
            external_id: Some("7123456789".into()),
            avatar_url: Some("https://cdn.example.com/bot7-new.png".into()),
            settings: Some(full_settings()),
        },
    )
    .await
    .unwrap();
    let listed = api
        .list_channels(&ListChannelsQuery {
            id: None,
            active: Some(true),
            types: vec!["telegram".into()],
            since: Some(datetime!(2020-01-01 0:00 UTC)),
            until: None,
            limit: Some(100),
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].settings, Some(full_settings()));
    api.deactivate_channel(channel).await.unwrap();
    let again = api
        .activate_channel(&ActivateChannelRequest {
            id: Some(channel),
            r#type: "telegram".into(),
            name: Some("@shop_support_bot".into()),
            external_id: Some("7123456789".into()),
            avatar_url: None,
            settings: Some(full_settings()),
        })
        .await
        .unwrap();
    assert_eq!(again.id, channel, "re-activation keeps the id");

    let code = "ns#order_shipped#en";
    api.activate_template(
        channel,
        &ActivateTemplateRequest {
            code: code.into(),
            r#type: TemplateType::Text,
            name: "Order shipped".into(),
            fields: template_fields(),
        },
    )
    .await
    .unwrap();
    api.update_template(
        channel,
        code,
        &UpdateTemplateRequest {
            name: "Order shipped (v2)".into(),
            fields: template_fields(),
        },
    )
    .await
    .unwrap();
    let templates = api.list_templates().await.unwrap();
    assert_eq!(templates[0].code.as_deref(), Some(code));
    assert_eq!(templates[0].template, template_fields().template);
    api.deactivate_template(channel, code).await.unwrap();

    let uploaded = api
        .upload_file(b"\x89PNG fake image".to_vec(), "image/png")
        .await
        .unwrap();
    assert_eq!(uploaded.mime_type.as_deref(), Some("image/png"));
    let by_url = api
        .upload_file_by_url(&UploadFileByUrlRequest {
            url: "https://cdn.messenger.example/media/abc.jpg".into(),
        })
        .await
        .unwrap();
    let info = api.get_file(&uploaded.id).await.unwrap();
    assert!(info.download_url().is_some());

    let sent = api
        .send_message(&SendMessageRequest {
            channel,
            external_chat_id: "chat-99001".into(),
            secondary_external_chat_ids: Some(vec!["thread-1".into()]),
            customer: Some(full_customer()),
            message: NewMessage {
                created_at: Some(datetime!(2026-07-01 10:05:03 UTC)),
                page_link: Some("https://shop.example/p/11".into()),
                ..NewMessage::text("m-777", "Is it available in blue?")
            },
            originator: Some(Originator::Customer),
            quote: Some(MessageIdentifier::external_id("out-555")),
            reply_deadline: Some(datetime!(2026-07-02 10:05:03 UTC)),
        })
        .await
        .unwrap();
    for (external_id, kind, items) in [
        (
            "m-778",
            MessageType::Image,
            vec![uploaded.id.clone(), by_url.id.clone()],
        ),
        ("m-779", MessageType::File, vec![uploaded.id.clone()]),
        ("m-780", MessageType::Audio, vec![uploaded.id.clone()]),
    ] {
        api.send_message(&SendMessageRequest {
            channel,
            external_chat_id: "chat-99001".into(),
            secondary_external_chat_ids: None,
            customer: Some(full_customer()),
            message: NewMessage {
                r#type: kind,
                external_id: Some(external_id.into()),
                created_at: Some(datetime!(2026-07-01 10:06:00 UTC)),
                text: Some("like this one".into()),
                note: Some("like this one".into()),
                items: Some(
                    items
                        .into_iter()
                        .map(|id| MessageItem {
                            id,
                            caption: Some("abc.jpg".into()),
                        })
                        .collect(),
                ),
                page_link: None,
                order: None,
                product: None,
            },
            originator: Some(Originator::Channel),
            quote: Some(MessageIdentifier::id(sent.message_id)),
            reply_deadline: None,
        })
        .await
        .unwrap();
    }
    for (external_id, kind) in [
        ("m-781", MessageType::Order),
        ("m-782", MessageType::Product),
    ] {
        api.send_message(&SendMessageRequest {
            channel,
            external_chat_id: "chat-99001".into(),
            secondary_external_chat_ids: None,
            customer: Some(full_customer()),
            message: NewMessage {
                r#type: kind,
                external_id: Some(external_id.into()),
                created_at: None,
                text: None,
                note: None,
                items: None,
                page_link: None,
                order: (kind == MessageType::Order).then(full_order),
                product: (kind == MessageType::Product).then(full_product),
            },
            originator: None,
            quote: None,
            reply_deadline: None,
        })
        .await
        .unwrap();
    }
    api.send_history_message(&SendHistoryMessageRequest {
        channel_id: channel,
        external_chat_id: "chat-99001".into(),
        customer: full_customer(),
        message: NewMessage {
            created_at: Some(datetime!(2026-06-01 09:00:00 UTC)),
            ..NewMessage::text("m-100", "An old message")
        },
        originator: Some(Originator::Channel),
        quote: Some(MessageIdentifier::external_id("m-777")),
        reply_deadline: Some(datetime!(2026-06-02 09:00:00 UTC)),
    })
    .await
    .unwrap();
    api.edit_message(&EditMessageRequest {
        channel,
        message: EditedMessage {
            id: None,
            external_id: Some("m-777".into()),
            text: "Is it available in red?".into(),
            edited_at: Some(1_782_900_400),
            page_link: Some("https://shop.example/p/12".into()),
        },
    })
    .await
    .unwrap();
    api.add_reaction(&AddReactionRequest {
        channel,
        message: MessageIdentifier::external_id("m-777"),
        reaction: "👍".into(),
    })
    .await
    .unwrap();
    api.delete_reaction(&DeleteReactionRequest {
        channel,
        message: MessageIdentifier::external_id("m-777"),
        reaction: Some("👍".into()),
    })
    .await
    .unwrap();
    api.mark_read(&MarkReadRequest {
        channel_id: channel,
        message: MessageIdentifier::id(MgMessageId(123460)),
    })
    .await
    .unwrap();
    let read = api
        .mark_read_until(&MarkReadUntilRequest {
            channel_id: channel,
            customer_external_id: "u-5001".into(),
            until: datetime!(2026-07-01 10:10:00 UTC),
        })
        .await
        .unwrap();
    assert!(!read.ids.is_empty());
    api.ack_message(&AckMessageRequest {
        channel,
        message: Some(MessageIdentifier::id(MgMessageId(123461))),
        transport_message_id: Some("4242".into()),
        created_at: Some(datetime!(2026-07-01 10:11:42 UTC)),
        error: None,
        external_message_id: Some("out-556".into()),
    })
    .await
    .unwrap();
    api.ack_message(&AckMessageRequest {
        channel,
        message: Some(MessageIdentifier::id(MgMessageId(123462))),
        transport_message_id: None,
        created_at: None,
        error: Some(SendingError {
            code: SendingErrorCode::AccessRestricted,
            message: Some("user blocked the bot".into()),
            external_code: Some("403".into()),
        }),
        external_message_id: None,
    })
    .await
    .unwrap();
    let deleted = api
        .delete_message(&DeleteMessageRequest {
            channel,
            message: MessageIdentifier::external_id("m-778"),
        })
        .await
        .unwrap();
    assert_eq!(deleted.r#type, Some(MessageType::Image));
    api.restore_message(&RestoreMessageRequest {
        channel_id: channel,
        message: MessageIdentifier::external_id("m-778"),
    })
    .await
    .unwrap();
    for r in fake.requests() {
        assert!(
            r.status < 300,
            "{} {} answered {}",
            r.method,
            r.path,
            r.status
        );
    }
}
