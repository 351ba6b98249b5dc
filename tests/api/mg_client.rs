//! The MessageGateway client against the fake MG: every operation, the per-token rate limit
//! measured where MG measures it (at arrival), retries, errors, and every request body checked
//! against the vendor's OpenAPI schema (`protocol/mg-transport-api.openapi.json`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::http::Method;
use mgbridge::config::MgSettings;
use mgbridge::domain::MgToken;
use mgbridge::mg::*;
use serde_json::{json, Map, Value};
use time::macros::datetime;

use crate::fake_mg::{FakeMg, DUPLICATE, TOKEN};

const OTHER_TOKEN: &str = "mg-token-fedcba9876543210fedcba9876543210";

fn settings(max_attempts: u32, timeout_seconds: u64) -> MgSettings {
    MgSettings {
        rate_limit_per_second: 30,
        rate_limit_burst: 5,
        rate_limit_window_margin_ms: 10,
        timeout_seconds,
        max_attempts,
        delivery: mgbridge::config::DeliveryMode::Async,
    }
}

fn api_for(fake: &FakeMg, client: &MgClient, token: &str) -> MgApi {
    client.api(&fake.url, &MgToken::new(token.to_owned()))
}

async fn fake_and_api(max_attempts: u32) -> (FakeMg, MgApi, MgChannelId) {
    let fake = FakeMg::start().await;
    let client = MgClient::new(&settings(max_attempts, 5)).unwrap();
    let api = api_for(&fake, &client, TOKEN);
    let channel = MgChannelId(fake.add_channel(TOKEN, "telegram"));
    (fake, api, channel)
}

fn ack(channel: MgChannelId, id: i64) -> AckMessageRequest {
    AckMessageRequest {
        channel,
        message: Some(MessageIdentifier::id(MgMessageId(id))),
        transport_message_id: Some(format!("tg-{id}")),
        created_at: None,
        error: None,
        external_message_id: None,
    }
}

// ---- Rate limit ---------------------------------------------------------------------------

#[tokio::test]
async fn concurrent_callers_stay_under_mgs_cap_and_do_not_slow_other_tokens() {
    let fake = FakeMg::start().await;
    let client = MgClient::new(&settings(5, 5)).unwrap();
    let busy = api_for(&fake, &client, TOKEN);
    let quiet = api_for(&fake, &client, OTHER_TOKEN);
    let channel = MgChannelId(fake.add_channel(TOKEN, "telegram"));
    let other_channel = MgChannelId(fake.add_channel(OTHER_TOKEN, "telegram"));

    let start = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..20 {
        let api = busy.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..150 / 20 + usize::from(task < 150 % 20) {
                api.send_message(&crate::fake_mg::text_message(
                    channel,
                    &format!("m-{task}-{n}"),
                ))
                .await
                .unwrap();
            }
        }));
    }
    // While the busy token has a long queue, the quiet one sends at once.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let quiet_start = Instant::now();
    for id in 0..5 {
        quiet.ack_message(&ack(other_channel, id)).await.unwrap();
    }
    let quiet_took = quiet_start.elapsed();
    for task in tasks {
        task.await.unwrap();
    }
    let took = start.elapsed();

    assert_eq!(fake.messages().len(), 150);
    assert_eq!(fake.rate_limited(TOKEN), 0, "MG answered 429");
    let max = fake.max_in_any_window(TOKEN, Duration::from_secs(1));
    assert!(max <= 30, "{max} requests in one second at MG");
    // 150 sends: 30 in the first ~0.83 s, then four windows of 1.01 s (4.87 s); the slack is
    // for a busy test machine.
    assert!(took < Duration::from_millis(6000), "{took:?}");
    assert!(quiet_took < Duration::from_millis(500), "{quiet_took:?}");
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let (fake, api, channel) = fake_and_api(5).await;
    fake.fail_next_with(1, 429, r#"{"errors":["Too many requests"]}"#, Some(1));
    let start = Instant::now();
    api.ack_message(&ack(channel, 1)).await.unwrap();
    let took = start.elapsed();
    let calls = fake.requests_to(&Method::POST, "/messages/ack");
    assert_eq!(calls.len(), 2);
    let gap = calls[1].at - calls[0].at;
    assert!(
        gap >= Duration::from_secs(1) && gap < Duration::from_millis(1500),
        "{gap:?}"
    );
    assert!(took >= Duration::from_secs(1), "{took:?}");
    // The body was sent again, whole.
    assert_eq!(calls[0].body, calls[1].body);
    assert_eq!(calls[1].body.as_ref().unwrap()["channel"], channel.0);
}

#[tokio::test]
async fn a_429_is_retried_for_any_call_then_given_up() {
    let (fake, api, channel) = fake_and_api(3).await;
    // POST /messages is not repeated after a 5xx, but a 429 means MG did nothing.
    fake.fail_next(1, 429);
    api.send_message(&crate::fake_mg::text_message(channel, "m-1"))
        .await
        .unwrap();
    assert_eq!(fake.requests_to(&Method::POST, "/messages").len(), 2);

    fake.fail_next(3, 429);
    let err = api
        .send_message(&crate::fake_mg::text_message(channel, "m-2"))
        .await
        .unwrap_err();
    assert_eq!(err, MgError::RateLimited);
    assert_eq!(fake.requests_to(&Method::POST, "/messages").len(), 5);
}

#[tokio::test]
async fn the_fakes_own_limit_answers_429_with_retry_after_and_the_client_waits() {
    let (fake, api, channel) = fake_and_api(5).await;
    // MG allowing only 10 a second: the client's 30 are too many, MG's Retry-After saves it.
    fake.set(|s| {
        s.rate_limit = Some(10);
        s.retry_after = Some(1);
    });
    let mut calls = Vec::new();
    for id in 0..15 {
        let api = api.clone();
        calls.push(tokio::spawn(async move {
            api.ack_message(&ack(channel, id)).await
        }));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert!(fake.rate_limited(TOKEN) > 0);
    assert!(fake.max_in_any_window(TOKEN, Duration::from_secs(1)) <= 10);
}

// ---- Retries and errors -------------------------------------------------------------------

#[tokio::test]
async fn a_500_is_retried_for_idempotent_calls() {
    let (fake, api, channel) = fake_and_api(3).await;
    fake.fail_next(1, 500);
    api.ack_message(&ack(channel, 7)).await.unwrap();
    assert_eq!(fake.requests_to(&Method::POST, "/messages/ack").len(), 2);

    fake.fail_next(1, 502);
    let listed = api
        .list_channels(&ListChannelsQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(fake.requests_to(&Method::GET, "/channels").len(), 2);

    fake.fail_next(3, 503);
    let err = api
        .mark_read(&MarkReadRequest {
            channel_id: channel,
            message: MessageIdentifier::id(MgMessageId(1)),
        })
        .await;
    assert_eq!(
        err.unwrap_err(),
        MgError::Api {
            status: 503,
            errors: vec![]
        }
    );
    assert_eq!(fake.requests_to(&Method::POST, "/messages/read").len(), 3);
}

#[tokio::test]
async fn a_500_is_not_retried_for_calls_that_create_something() {
    let (fake, api, channel) = fake_and_api(5).await;
    fake.fail_next(1, 500);
    let err = api
        .send_message(&crate::fake_mg::text_message(channel, "m-1"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MgError::Api {
            status: 500,
            errors: vec![]
        }
    );
    assert!(err.is_transient());
    assert_eq!(fake.requests_to(&Method::POST, "/messages").len(), 1);

    fake.fail_next(1, 500);
    let activate = ActivateChannelRequest {
        id: None,
        r#type: "telegram".into(),
        name: Some("@shop_bot".into()),
        external_id: None,
        avatar_url: None,
        settings: None,
    };
    assert!(api.activate_channel(&activate).await.is_err());
    assert_eq!(fake.requests_to(&Method::POST, "/channels").len(), 1);
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_at_once() {
    let (fake, api, _) = fake_and_api(5).await;
    fake.refuse_token(TOKEN);
    let err = api
        .list_channels(&ListChannelsQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err, MgError::Unauthorized);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn error_bodies_are_read_whatever_their_shape() {
    let (fake, api, channel) = fake_and_api(1).await;
    fake.fail_next_with(1, 400, r#"{"errors":[]}"#, None);
    assert_eq!(
        api.ack_message(&ack(channel, 1)).await.unwrap_err(),
        MgError::Api {
            status: 400,
            errors: vec![]
        }
    );
    fake.fail_next_with(1, 502, "<html>Bad Gateway</html>", None);
    assert_eq!(
        api.ack_message(&ack(channel, 1)).await.unwrap_err(),
        MgError::Api {
            status: 502,
            errors: vec![]
        }
    );
    fake.fail_next(1, 500); // empty body
    assert_eq!(
        api.ack_message(&ack(channel, 1)).await.unwrap_err(),
        MgError::Api {
            status: 500,
            errors: vec![]
        }
    );
    // A real answer of the fake: the channel does not exist.
    let err = api
        .send_message(&crate::fake_mg::text_message(MgChannelId(999), "m-1"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MgError::Api {
            status: 400,
            errors: vec!["Channel not found".into()]
        }
    );
    // The same external_id twice: MG already has it.
    api.send_message(&crate::fake_mg::text_message(channel, "m-7"))
        .await
        .unwrap();
    let dup = api
        .send_message(&crate::fake_mg::text_message(channel, "m-7"))
        .await
        .unwrap_err();
    assert!(dup.is_duplicate_external_id(), "{dup:?}");
    assert_eq!(
        dup,
        MgError::Api {
            status: 400,
            errors: vec![DUPLICATE.into()]
        }
    );
}

#[tokio::test]
async fn delete_calls_carry_their_json_body() {
    let (fake, api, channel) = fake_and_api(3).await;
    api.send_message(&crate::fake_mg::text_message(channel, "m-1"))
        .await
        .unwrap();
    api.add_reaction(&AddReactionRequest {
        channel,
        message: MessageIdentifier::external_id("m-1"),
        reaction: "👍".into(),
    })
    .await
    .unwrap();
    api.delete_reaction(&DeleteReactionRequest {
        channel,
        message: MessageIdentifier::external_id("m-1"),
        reaction: None,
    })
    .await
    .unwrap();
    let deleted = api
        .delete_message(&DeleteMessageRequest {
            channel,
            message: MessageIdentifier::external_id("m-1"),
        })
        .await
        .unwrap();
    assert_eq!(deleted.id, Some(MgMessageId(1)));
    let reaction = &fake.requests_to(&Method::DELETE, "/messages/reaction")[0];
    assert_eq!(
        reaction.body,
        Some(json!({"channel": channel.0, "message": {"external_id": "m-1"}}))
    );
    let message = &fake.requests_to(&Method::DELETE, "/messages")[0];
    assert_eq!(
        message.body,
        Some(json!({"channel": channel.0, "message": {"external_id": "m-1"}}))
    );
    assert_eq!(message.content_type.as_deref(), Some("application/json"));
    let stored = &fake.messages()[0];
    assert!(stored.deleted);
    assert!(stored.reactions.is_empty());
}

#[tokio::test]
async fn an_unreachable_mg_says_so_without_the_url_or_token() {
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = MgClient::new(&settings(2, 2)).unwrap();
    let api = client.api(
        &format!("http://127.0.0.1:{port}/"),
        &MgToken::new(TOKEN.to_owned()),
    );
    let err = api
        .send_message(&crate::fake_mg::text_message(MgChannelId(1), "m-1"))
        .await
        .unwrap_err();
    let MgError::Unreachable(reason) = &err else {
        panic!("{err:?}");
    };
    assert!(!reason.contains(&port.to_string()), "{reason}");
    assert!(!err.to_string().contains("127.0.0.1"), "{err}");
    let shown = format!("{err} {err:?} {api:?} {client:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(reason.starts_with("connection failed"), "{reason}");
}

#[tokio::test]
async fn a_slow_mg_times_out_and_creating_calls_are_not_repeated() {
    let fake = FakeMg::start().await;
    let client = MgClient::new(&settings(3, 1)).unwrap();
    let api = api_for(&fake, &client, TOKEN);
    let channel = MgChannelId(fake.add_channel(TOKEN, "telegram"));
    fake.set(|s| s.delay = Duration::from_millis(1500));
    let start = Instant::now();
    let err = api
        .send_message(&crate::fake_mg::text_message(channel, "m-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MgError::Unreachable(reason) if reason.starts_with("timed out")),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_millis(1400));
    // The answer still comes; the fake records it when it is sent.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(fake.requests_to(&Method::POST, "/messages").len(), 1);
}

// ---- Every operation, and its body against the OpenAPI schema ----------------------------

fn full_settings() -> ChannelSettings {
    let all = |f| Some(f);
    ChannelSettings {
        status: Some(StatusSetting {
            delivered: all(ChannelFeature::Send),
            read: all(ChannelFeature::None),
        }),
        text: Some(TextSetting {
            creating: all(ChannelFeature::Both),
            editing: all(ChannelFeature::Both),
            quoting: all(ChannelFeature::Both),
            deleting: all(ChannelFeature::Receive),
            reaction: all(ChannelFeature::Both),
            max_chars_count: Some(4096),
        }),
        image: Some(MediaSetting {
            creating: all(ChannelFeature::Both),
            editing: all(ChannelFeature::None),
            quoting: all(ChannelFeature::Both),
            deleting: all(ChannelFeature::Receive),
            reaction: all(ChannelFeature::Both),
            max_items_count: Some(10),
            note_max_chars_count: Some(1024),
            max_item_size: Some(10 << 20),
        }),
        file: Some(MediaSetting {
            creating: all(ChannelFeature::Both),
            editing: all(ChannelFeature::None),
            quoting: all(ChannelFeature::Both),
            deleting: all(ChannelFeature::Receive),
            reaction: all(ChannelFeature::Both),
            max_items_count: Some(1),
            note_max_chars_count: Some(1024),
            max_item_size: Some(20 << 20),
        }),
        audio: Some(AudioSetting {
            creating: all(ChannelFeature::Both),
            quoting: all(ChannelFeature::Both),
            deleting: all(ChannelFeature::Receive),
            reaction: all(ChannelFeature::Both),
            max_items_count: Some(1),
            max_item_size: Some(20 << 20),
        }),
        product: Some(CardSetting {
            creating: all(ChannelFeature::Receive),
            editing: all(ChannelFeature::None),
            deleting: all(ChannelFeature::Receive),
            quoting: all(ChannelFeature::None),
            reaction: all(ChannelFeature::None),
        }),
        order: Some(CardSetting {
            creating: all(ChannelFeature::Receive),
            editing: all(ChannelFeature::None),
            deleting: all(ChannelFeature::Receive),
            quoting: all(ChannelFeature::None),
            reaction: all(ChannelFeature::None),
        }),
        reactions: Some(ReactionsSetting {
            dictionary: Some(vec!["👍".into(), "❤".into(), "🔥".into()]),
            max_count: Some(1),
        }),
        suggestions: Some(SuggestionsSetting {
            text: all(ChannelFeature::Receive),
            phone: all(ChannelFeature::Receive),
            email: all(ChannelFeature::Receive),
            url: all(ChannelFeature::Receive),
        }),
        customer_external_id: Some(CustomerExternalId::Any),
        sending_policy: Some(SendingPolicy {
            new_customer: Some(NewCustomerPolicy::No),
            after_reply_timeout: Some(AfterReplyTimeoutPolicy::Template),
            outgoing: Some(OutgoingPolicy::Allowed),
        }),
        template: Some(TemplateSetting {
            creation: Some(false),
        }),
        whatsapp: Some(WhatsAppSetting {
            tier: Some(1),
            channel_quality: Some(WhatsAppQuality::High),
            channel_status: Some(WhatsAppStatus::Connected),
        }),
    }
}

fn full_customer() -> Customer {
    Customer {
        external_id: "u-5001".into(),
        nickname: "anna_k".into(),
        first_name: Some("Anna".into()),
        last_name: Some("K".into()),
        avatar: Some("https://cdn.example.com/u5001.jpg".into()),
        profile_url: Some("https://t.me/anna_k".into()),
        country: Some("DE".into()),
        language: Some("en".into()),
        phone: Some("+491701234567".into()),
        email: Some("anna@example.com".into()),
        secondary_external_ids: Some(vec!["anna-alt".into()]),
        utm: Some(Utm {
            source: Some("instagram".into()),
            medium: Some("social".into()),
            campaign: Some("summer".into()),
            term: Some("blue dress".into()),
            content: Some("story".into()),
        }),
    }
}

fn cost(value: f64) -> Option<Cost> {
    Some(Cost {
        value,
        currency: "EUR".into(),
    })
}

fn full_order() -> MessageOrder {
    MessageOrder {
        external_id: Some(8061),
        number: Some("8061C".into()),
        url: Some("https://shop.example/orders/8061".into()),
        date: Some(datetime!(2026-07-01 10:00:00 UTC)),
        cost: cost(174.0),
        discount: cost(10.0),
        status: Some(OrderStatus {
            code: Some(OrderStatusCode::Assembling),
            name: Some("Being assembled".into()),
        }),
        delivery: Some(OrderDelivery {
            name: Some("Courier".into()),
            price: cost(5.0),
            address: Some("Main St 1, Berlin".into()),
            comment: Some("Ring twice".into()),
        }),
        payments: Some(vec![OrderPayment {
            name: Some("Card".into()),
            amount: cost(169.0),
            status: Some(PaymentStatus {
                name: Some("Paid".into()),
                payed: Some(true),
            }),
        }]),
        items: Some(vec![OrderItem {
            external_id: Some(11),
            name: Some("Blue dress".into()),
            url: Some("https://shop.example/p/11".into()),
            img: Some("https://shop.example/p/11.jpg".into()),
            price: cost(174.0),
            quantity: Some(Quantity {
                value: 1.0,
                unit: Some("pcs".into()),
            }),
        }]),
    }
}

fn full_product() -> MessageProduct {
    MessageProduct {
        id: Some(11),
        name: "Blue dress".into(),
        article: Some("BD-11".into()),
        url: Some("https://shop.example/p/11".into()),
        img: Some("https://shop.example/p/11.jpg".into()),
        cost: cost(174.0),
        unit: Some("pcs".into()),
    }
}

fn template_fields() -> TemplateFields {
    TemplateFields {
        template: Some(vec![
            TemplateItem::Text("Hi ".into()),
            TemplateItem::FirstName,
            TemplateItem::Text(", your order ".into()),
            TemplateItem::Custom,
            TemplateItem::Text(" has shipped.".into()),
        ]),
        body: Some("Hi {{1}}, your order {{2}} has shipped.".into()),
        lang: Some("en".into()),
        category: Some("utility".into()),
        verification_status: Some(TemplateVerificationStatus::Approved),
        quality: Some(TemplateQuality::High),
        rejection_reason: Some(TemplateRejectionReason::InvalidFormat),
        header: Some(TemplateHeader {
            content: TemplateHeaderContent {
                r#type: TemplateHeaderType::Text,
                body: Some("Shipping update".into()),
            },
        }),
        footer: Some("Shop Inc.".into()),
        buttons: Some(TemplateButtons {
            items: vec![
                TemplateButton {
                    r#type: TemplateButtonType::Url,
                    label: "Track".into(),
                    phone: None,
                    url: Some("https://shop.example/t/8061".into()),
                },
                TemplateButton {
                    r#type: TemplateButtonType::Phone,
                    label: "Call us".into(),
                    phone: Some("+491701234567".into()),
                    url: None,
                },
            ],
        }),
    }
}

/// Calls every operation of the Transport API with realistic, fully filled requests.
async fn exercise_every_operation(fake: &FakeMg, api: &MgApi) {
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

/// The vendor's OpenAPI document, turned into JSON Schemas for request bodies.
struct OpenApi {
    doc: Value,
    /// `components.schemas`, converted (see `convert`), under the same pointer.
    components: Value,
}

impl OpenApi {
    fn load() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/protocol/mg-transport-api.openapi.json"
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut schemas = Map::new();
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            schemas.insert(name.clone(), convert(&doc, schema));
        }
        // The document's TemplateItem is a code-generation artefact (protocol/README.md);
        // the client sends the form MG's first client used: text, `{}` or `{"var": name}`.
        schemas.insert(
            "TemplateItem".into(),
            json!({"anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"var": {"enum": ["name", "first_name", "last_name"]}},
                 "additionalProperties": false}
            ]}),
        );
        Self {
            doc,
            components: json!({ "schemas": schemas }),
        }
    }

    /// `(operationId, method, path template)` of every operation.
    fn operations(&self) -> Vec<(String, Method, String)> {
        let mut all = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Ok(m) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    all.push((id.to_owned(), m, path.clone()));
                }
            }
        }
        all
    }

    /// The operation a recorded request was made to.
    fn operation_of(&self, method: &Method, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations()
            .into_iter()
            .find(|(_, m, template)| {
                let parts: Vec<&str> = template.split('/').collect();
                m == method
                    && parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p.starts_with('{') || p == s)
            })
            .map(|(id, ..)| id)
    }

    /// The JSON Schema of an operation's JSON request body, if it has one.
    fn request_schema(&self, operation: &str) -> Option<Value> {
        let (_, method, path) = self
            .operations()
            .into_iter()
            .find(|(id, ..)| id == operation)
            .unwrap_or_else(|| panic!("no operation {operation}"));
        let op = &self.doc["paths"][&path][method.as_str().to_lowercase()];
        let mut body = op.get("requestBody")?.clone();
        if let Some(reference) = body.get("$ref").and_then(Value::as_str) {
            body = self.doc.pointer(&reference[1..]).unwrap().clone();
        }
        let schema = body.pointer("/content/application~1json/schema")?;
        let mut root = convert(&self.doc, schema);
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["components"] = self.components.clone();
        Some(root)
    }

    /// The schema violations of `body` as the request body of `operation`.
    fn violations(&self, operation: &str, body: &Value) -> Vec<String> {
        let schema = self
            .request_schema(operation)
            .unwrap_or_else(|| panic!("{operation} has no JSON body"));
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the converted schema of {operation} is invalid: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

/// Whether a property's `binding` tag makes it required (`required`, not `required_if=…`).
fn binding_requires(property: &Value) -> bool {
    property
        .pointer("/x-oapi-codegen-extra-tags/binding")
        .and_then(Value::as_str)
        .is_some_and(|b| b.split(',').any(|rule| rule.trim() == "required"))
}

/// An OpenAPI 3.0 schema as JSON Schema 2020-12: `$ref`s keep pointing into
/// `#/components/schemas`, `nullable` becomes a `null` alternative, `allOf` of objects is
/// merged into one object, `required` comes from the `binding` tags (the document's lists
/// are stricter than MG), and objects are closed so a wrong field name fails.
fn convert(doc: &Value, schema: &Value) -> Value {
    let converted = convert_inner(doc, schema);
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        json!({"anyOf": [converted, {"type": "null"}]})
    } else {
        converted
    }
}

fn convert_inner(doc: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema.get("$ref") {
        return json!({ "$ref": reference });
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        if parts.len() == 1 && schema.get("properties").is_none() {
            // A property wrapping a reference to carry its own tags.
            return convert_inner(doc, &parts[0]);
        }
        let mut properties = Map::new();
        let mut required = BTreeSet::new();
        for part in parts.iter().chain(std::iter::once(schema)) {
            collect_object(doc, part, &mut properties, &mut required);
        }
        return object_schema(properties, required);
    }
    let is_object =
        schema.get("type") == Some(&json!("object")) || schema.get("properties").is_some();
    if is_object {
        let mut properties = Map::new();
        let mut required = BTreeSet::new();
        collect_object(doc, schema, &mut properties, &mut required);
        return object_schema(properties, required);
    }
    let mut out = Map::new();
    for key in [
        "type",
        "enum",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
    ] {
        if let Some(value) = schema.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    if let Some(items) = schema.get("items") {
        out.insert("items".into(), convert(doc, items));
    }
    Value::Object(out)
}

/// Adds the properties of an object schema (following `$ref`s and nested `allOf`s).
fn collect_object(
    doc: &Value,
    schema: &Value,
    properties: &mut Map<String, Value>,
    required: &mut BTreeSet<String>,
) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc.pointer(&reference[1..]).unwrap();
        return collect_object(doc, target, properties, required);
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_object(doc, part, properties, required);
    }
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        properties.insert(name.clone(), convert(doc, property));
        if binding_requires(property) {
            required.insert(name.clone());
        }
    }
}

fn object_schema(properties: Map<String, Value>, required: BTreeSet<String>) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required.into_iter().collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}

#[tokio::test]
async fn every_request_the_client_sends_validates_against_the_openapi_schema() {
    let fake = FakeMg::start().await;
    let client = MgClient::new(&settings(3, 5)).unwrap();
    let api = api_for(&fake, &client, TOKEN);
    exercise_every_operation(&fake, &api).await;

    let openapi = OpenApi::load();
    let mut called = BTreeSet::new();
    let mut validated = BTreeSet::new();
    for request in fake.requests() {
        let operation = openapi
            .operation_of(&request.method, &request.path)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} is no Transport API operation",
                    request.method, request.path
                )
            });
        called.insert(operation.clone());
        if openapi.request_schema(&operation).is_some() && request.path != "/files/upload" {
            let body = request
                .body
                .unwrap_or_else(|| panic!("{operation} was sent without a JSON body"));
            let violations = openapi.violations(&operation, &body);
            assert!(
                violations.is_empty(),
                "{operation} body {body:#} breaks the schema:\n{}",
                violations.join("\n")
            );
            validated.insert(operation);
        }
    }
    let all: BTreeSet<String> = openapi
        .operations()
        .into_iter()
        .map(|(id, ..)| id)
        .collect();
    assert_eq!(called, all, "operations never called");
    assert_eq!(validated.len(), 15, "{validated:?}");
    // The template code travelled percent-escaped.
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.path == "/channels/1/templates/ns%23order_shipped%23en"));
}

#[test]
fn the_schema_check_catches_wrong_field_names_and_values() {
    let openapi = OpenApi::load();
    let valid =
        serde_json::to_value(crate::fake_mg::text_message(MgChannelId(305), "m-1")).unwrap();
    assert_eq!(
        openapi.violations("SendMessage", &valid),
        Vec::<String>::new()
    );

    let rename = |value: &Value, from: &str, to: &str| {
        let mut value = value.clone();
        let moved = value.as_object_mut().unwrap().remove(from).unwrap();
        value[to] = moved;
        value
    };
    // `channel_id` where this endpoint says `channel`, and the other way round.
    let wrong = rename(&valid, "channel", "channel_id");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    let read = json!({"channel_id": 305, "message": {"id": 1}});
    assert!(openapi.violations("MarkMessageRead", &read).is_empty());
    let wrong = rename(&read, "channel_id", "channel");
    assert!(!openapi.violations("MarkMessageRead", &wrong).is_empty());
    // A misspelt optional field.
    let wrong = rename(&valid, "external_chat_id", "external_chat");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    // Values outside the enums.
    let mut wrong = valid.clone();
    wrong["message"]["type"] = json!("sticker");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    let activate = json!({"type": "telegram", "settings": {"text": {"creating": "both"}}});
    assert!(openapi.violations("ActivateChannel", &activate).is_empty());
    let mut wrong = activate.clone();
    wrong["type"] = json!("Telegram");
    assert!(!openapi.violations("ActivateChannel", &wrong).is_empty());
    let mut wrong = activate.clone();
    wrong["settings"]["text"]["creating"] = json!("any");
    assert!(!openapi.violations("ActivateChannel", &wrong).is_empty());
    // Formats: a timestamp that is not RFC 3339.
    let mut wrong = valid.clone();
    wrong["reply_deadline"] = json!("tomorrow");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    // A required field (by its binding tag) left out.
    let mut wrong = valid.clone();
    wrong["customer"]
        .as_object_mut()
        .unwrap()
        .remove("nickname");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    // ...while the document's stricter lists are not applied: activating needs no `id`, a
    // text message needs no `items`.
    let listed = &openapi.doc["components"]["requestBodies"]["ActivateChannelRequest"]["content"]
        ["application/json"]["schema"]["required"];
    assert!(listed.as_array().unwrap().contains(&json!("id")));
    assert!(valid["message"].get("items").is_none());
}
