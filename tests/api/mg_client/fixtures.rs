//! Requests with every field filled, for the operations below.

use super::*;

pub(super) fn full_settings() -> ChannelSettings {
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
            markup_formats: None,
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

pub(super) fn full_customer() -> Customer {
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

pub(super) fn cost(value: f64) -> Option<Cost> {
    Some(Cost {
        value,
        currency: "EUR".into(),
    })
}

pub(super) fn full_order() -> MessageOrder {
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

pub(super) fn full_product() -> MessageProduct {
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

pub(super) fn template_fields() -> TemplateFields {
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
