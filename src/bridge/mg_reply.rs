//! The answer to MG's webhooks that are handled in the request itself, not queued: which
//! is every kind but those acting on a chat (`MgWebhook::target_chat`). Messenger-neutral.

use serde_json::{json, Value};

use crate::mg::{MgWebhook, TemplateData};

/// The answer to a webhook handled in the request itself (pure; the handler logs unknown
/// kinds). `template_create` must return a code (§5.4): ours is made from the name, and v1
/// requires `verification_status` too. Everything else is answered `{}`.
pub fn webhook_reply(hook: &MgWebhook) -> Value {
    match hook {
        MgWebhook::TemplateCreate(template) => json!({
            "code": template_code(template),
            "verification_status": "pending",
        }),
        _ => json!({}),
    }
}

/// The code we answer `template_create` with: MG's own if it sent one, else made from the name
/// and language (`Order shipped`, `en` → `order_shipped_en`), else from a hash of the body.
/// Our channels do not enable template creation; this only lets MG's call succeed.
pub fn template_code(template: &TemplateData) -> String {
    if let Some(code) = template.code.as_deref().filter(|c| !c.trim().is_empty()) {
        return code.trim().to_owned();
    }
    let name = slug(template.name.as_deref().unwrap_or_default());
    let lang = slug(template.lang.as_deref().unwrap_or_default());
    let code = match (name.is_empty(), lang.is_empty()) {
        (false, false) => format!("{name}_{lang}"),
        (false, true) => name,
        _ => {
            let seed = format!(
                "{}\u{0}{}\u{0}{}",
                template.name.as_deref().unwrap_or_default(),
                template.lang.as_deref().unwrap_or_default(),
                template.body.as_deref().unwrap_or_default()
            );
            format!("template_{:016x}", fnv1a(seed.as_bytes()))
        }
    };
    code.chars().take(512).collect()
}

/// Lowercase letters and digits (any script), everything else one `_`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mg::MessageRef;

    #[test]
    fn template_codes_come_from_name_and_language() {
        let mut t = TemplateData {
            name: Some("Order shipped".into()),
            lang: Some("en".into()),
            ..Default::default()
        };
        assert_eq!(template_code(&t), "order_shipped_en");
        t.name = Some("Заказ  отправлен!".into());
        t.lang = Some("ru".into());
        assert_eq!(template_code(&t), "заказ_отправлен_ru");
        t.code = Some("given#code".into());
        assert_eq!(template_code(&t), "given#code");
        let nameless = TemplateData {
            body: Some("Hi {{1}}".into()),
            ..Default::default()
        };
        let code = template_code(&nameless);
        assert!(code.starts_with("template_") && code.len() == 25, "{code}");
        assert_eq!(code, template_code(&nameless), "stable");
    }

    #[test]
    fn webhook_replies_follow_the_protocol() {
        let create = MgWebhook::from_value(json!({"type": "template_create", "meta": {"timestamp": 1782901200},
            "data": {"channel_id": 305, "name": "Order shipped", "lang": "en", "category": "utility",
                     "body": "Hi {{1}}, your order {{2}} has shipped."}}))
        .unwrap();
        // protocol/transport-api.md §9 V17.
        assert_eq!(
            webhook_reply(&create),
            json!({"code": "order_shipped_en", "verification_status": "pending"})
        );
        for hook in [
            MgWebhook::MessageRead(MessageRef::default()),
            MgWebhook::TemplateUpdate(TemplateData::default()),
            MgWebhook::TemplateDelete(TemplateData::default()),
            MgWebhook::Unknown("dialog_closed".into()),
        ] {
            assert_eq!(webhook_reply(&hook), json!({}), "{hook:?}");
        }
    }
}
