//! The client's pure parts: paths, backoff, `Retry-After`, and that every call is `Send`.

use super::operations::{escape_segment, query_time};
use super::*;
use crate::mg::types::*;

#[test]
fn template_codes_are_escaped_in_paths() {
    assert_eq!(
        escape_segment("ns#order_shipped#en"),
        "ns%23order_shipped%23en"
    );
    assert_eq!(escape_segment("a/b c%"), "a%2Fb%20c%25");
}

#[test]
fn backoff_stays_under_its_ceiling() {
    for attempt in 1..10 {
        let ceiling = (200u64 << (attempt - 1)).min(3200);
        for _ in 0..50 {
            assert!(backoff(attempt) <= Duration::from_millis(ceiling));
        }
    }
}

#[test]
fn retry_after_is_read_in_seconds() {
    let mut headers = header::HeaderMap::new();
    assert_eq!(retry_after(&headers), None);
    headers.insert(header::RETRY_AFTER, "2".parse().unwrap());
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
    headers.insert(header::RETRY_AFTER, "3600".parse().unwrap());
    assert_eq!(retry_after(&headers), Some(RETRY_AFTER_CAP));
    headers.insert(
        header::RETRY_AFTER,
        "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
    );
    assert_eq!(retry_after(&headers), None);
}

#[test]
fn every_call_is_a_send_future() {
    // Callers spawn these; a non-Send value held across an await would break them.
    fn is_send<T: Send>(_: &T) {}
    let settings = MgSettings {
        rate_limit_per_second: 30,
        rate_limit_burst: 5,
        rate_limit_window_margin_ms: 10,
        timeout_seconds: 5,
        max_attempts: 3,
        delivery: crate::config::DeliveryMode::Async,
        reconcile_per_second: 20,
    };
    let api = MgClient::new(&settings)
        .unwrap()
        .api("http://127.0.0.1:9", &MgToken::new("t".into()));
    let channel = MgChannelId(1);
    let message = MessageIdentifier::id(MgMessageId(1));
    is_send(&api.list_channels(&ListChannelsQuery::default()));
    is_send(&api.deactivate_channel(channel));
    is_send(&api.list_templates());
    is_send(&api.deactivate_template(channel, "a#b"));
    is_send(&api.get_file(&MgFileId("x".into())));
    is_send(&api.upload_file(vec![1u8], "image/png"));
    let read = MarkReadRequest {
        channel_id: channel,
        message: message.clone(),
    };
    is_send(&api.mark_read(&read));
    let reaction = DeleteReactionRequest {
        channel,
        message,
        reaction: None,
    };
    is_send(&api.delete_reaction(&reaction));
}

#[test]
fn query_times_are_utc_with_microseconds() {
    let t = time::macros::datetime!(2026-07-01 12:00:00.123456 +02:00);
    assert_eq!(query_time(t), "2026-07-01T10:00:00.123456Z");
}
