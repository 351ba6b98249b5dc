//! Retries and errors.

use super::*;

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
