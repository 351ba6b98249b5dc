//! What each parser at the edge promises, for any input: checked on mutated samples by the
//! bounded run (`tests/fuzz/main.rs`) and by the coverage-guided targets (`fuzz/`). Each
//! function panics when a promise is broken, which is what both harnesses report.

use mgbridge::bridge::ingest::{customer_update_payload, read_customer_update};
use mgbridge::config::CrmSettings;
use mgbridge::crm::address::CrmPolicy;
use mgbridge::domain::ClientId;
use mgbridge::messenger::telegram::inbound::{decode_update, encode_update};
use mgbridge::messenger::telegram::{BotToken, Update};
use mgbridge::mg::MgWebhook;
use mgbridge::store::ChannelId;

/// Whatever the Telegram webhook accepts, the worker reads back: the webhook stores the update
/// it parsed (`messenger::telegram::inbound::encode_update`, inside `bridge::ingest`'s payload;
/// one it cannot store is refused with 400), and the worker's `read_customer_update` and
/// `decode_update` give back that same update. (Before, the raw body was stored
/// and parsed again as a generic value, which refused lone surrogates, deep nesting and
/// out-of-range numbers the typed parse had skipped: `tests/fuzz_corpus/known_defects/`.)
pub fn telegram_update(body: &[u8]) {
    let Ok(update) = serde_json::from_slice::<Update>(body) else {
        return;
    };
    let channel = ChannelId::parse("0b9d5f43-2f8e-4d4b-9a51-6f0f3c1e2a77").expect("a valid id");
    let store = |update: &Update| {
        let raw = encode_update(update).ok()?;
        customer_update_payload(&channel, &raw).ok()
    };
    let Some(stored) = store(&update) else {
        return;
    };
    let (channel_again, raw) = read_customer_update(&stored)
        .unwrap_or_else(|e| panic!("accepted update unreadable by the worker: {e}"));
    assert_eq!(channel_again.as_str(), channel.as_str());
    let again = decode_update(raw.get())
        .unwrap_or_else(|e| panic!("accepted update unreadable by the worker: {e}"));
    let stored_again = store(&again).expect("a read update stores again");
    assert_eq!(
        stored_again, stored,
        "the worker reads another update than the webhook stored"
    );
}

/// Whatever the MG webhook accepts, the worker (which parses the stored text again) reads the
/// same event, and a chat it targets is named.
pub fn mg_webhook(body: &[u8]) {
    let Ok(hook) = MgWebhook::parse(body) else {
        return;
    };
    let stored = String::from_utf8_lossy(body);
    let again = MgWebhook::parse(stored.as_bytes())
        .unwrap_or_else(|e| panic!("accepted MG webhook unreadable by the worker: {e}"));
    assert_eq!(
        again, hook,
        "the worker reads another MG event than the webhook"
    );
}

/// The policies the connect form and the activity callback run with in production: an
/// allow-list, https only.
pub fn crm_policies() -> [CrmPolicy; 2] {
    let settings = |domains: &[&str], allow_http| CrmSettings {
        allowed_domains: domains.iter().map(|d| d.to_string()).collect(),
        allow_http,
        allow_private_networks: false,
        timeout_seconds: 5,
    };
    [
        CrmPolicy::new(&settings(&["retailcrm.ru", "simla.com"], false)),
        CrmPolicy::new(&settings(&["*"], false)),
    ]
}

/// A CRM address that parses is an https origin with an allowed host and nothing else, and
/// parsing it again gives it back unchanged.
pub fn crm_url(policies: &[CrmPolicy], text: &str) {
    for (i, policy) in policies.iter().enumerate() {
        let Ok(crm) = policy.parse(text) else {
            continue;
        };
        let url = url::Url::parse(crm.as_str())
            .unwrap_or_else(|e| panic!("accepted {text:?} became {crm:?}, not a URL: {e}"));
        assert_eq!(url.scheme(), "https", "{text:?} → {}", crm.as_str());
        let host = url.host_str().unwrap_or_default();
        assert!(!host.is_empty(), "{text:?} → no host");
        assert!(
            url.username().is_empty() && url.password().is_none() && url.port().is_none(),
            "{text:?} → {} keeps user info or a port",
            crm.as_str()
        );
        assert!(
            url.path() == "/" && url.query().is_none() && url.fragment().is_none(),
            "{text:?} → {} keeps a path, query or fragment",
            crm.as_str()
        );
        assert!(!crm.as_str().ends_with('/'), "{text:?} → trailing slash");
        if i == 0 {
            let host = host.trim_end_matches('.');
            assert!(
                ["retailcrm.ru", "simla.com"]
                    .iter()
                    .any(|d| host == *d || host.ends_with(&format!(".{d}"))),
                "{text:?} → host {host} outside the allow-list"
            );
        }
        let again = policy.parse(crm.as_str()).unwrap_or_else(|e| {
            panic!("{text:?} → {} refused when parsed again: {e}", crm.as_str())
        });
        assert_eq!(again.as_str(), crm.as_str(), "normalising is not stable");
    }
}

/// A bot token that parses is `digits:secret`, prints redacted, and never shows its secret.
pub fn bot_token(text: &str) {
    let Ok(token) = BotToken::parse(text) else {
        return;
    };
    let (id, secret) = token
        .expose()
        .split_once(':')
        .unwrap_or_else(|| panic!("accepted token without a colon"));
    // Leading zeros pass (`0123:…`): Telegram never issues them and would refuse the token.
    assert_eq!(
        Ok(token.bot_id()),
        id.parse::<i64>(),
        "bot id read differently"
    );
    assert!(token.bot_id() > 0);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "accepted a secret that is not URL-safe"
    );
    let shown = format!("{token:?}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(!shown.contains(secret), "the Debug text shows the secret");
    assert_eq!(
        BotToken::parse(token.expose()).ok().as_ref(),
        Some(&token),
        "a parsed token does not parse again to itself"
    );
}

/// A clientId that parses is kept as given and prints only its first characters.
pub fn client_id(text: &str) {
    let Some(id) = ClientId::parse(text) else {
        return;
    };
    assert_eq!(id.as_str(), text);
    let shown = format!("{id:?}");
    assert!(
        text.len() < 12 || !shown.contains(text),
        "the Debug text shows the whole clientId"
    );
}
