//! The per-token rate limit, measured where MG measures it (at arrival).

use super::*;

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
