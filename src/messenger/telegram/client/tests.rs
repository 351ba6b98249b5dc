//! The client's own rules: scrubbed, short error texts; header-safe file names; `Send`
//! futures; refused API URLs.

use super::multipart::safe_file_name;
use super::*;

#[test]
fn telegram_file_names_are_kept_readable_and_header_safe() {
    assert_eq!(safe_file_name("Счёт №5.pdf"), "Счёт №5.pdf");
    assert_eq!(safe_file_name("a\r\nb\".pdf"), "a__b_.pdf");
    assert_eq!(safe_file_name("x;y.txt"), "x_y.txt");
    assert_eq!(safe_file_name("  "), "file");
}

#[test]
fn telegram_error_texts_are_scrubbed_and_short() {
    let token = BotToken::parse("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw").unwrap();
    let text = scrub(
        "bad https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
        &token,
    );
    assert!(
        !text.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        "{text}"
    );
    assert_eq!(
        truncate(&"é".repeat(400)).chars().count(),
        MAX_ERROR_TEXT + 1
    );
}

/// Callers spawn these on the multi-threaded runtime; this fails to compile if one is not.
#[test]
fn telegram_bot_futures_are_send() {
    use super::super::types::*;
    fn send<T: Send>(_: T) {}
    let api = url::Url::parse("https://api.telegram.org").unwrap();
    let token = BotToken::parse("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw").unwrap();
    let bot = TelegramClient::new(&api, Duration::from_secs(5))
        .unwrap()
        .bot(&token);
    let media = SendMedia::new(1, InputFile::Upload(UploadFile::new("a", vec![1])));
    let group = SendMediaGroup {
        chat_id: 1,
        media: vec![InputMedia::new(MediaKind::Photo, media.file.clone())],
        reply_parameters: None,
        disable_notification: None,
    };
    send(bot.get_me());
    send(bot.set_webhook(&SetWebhook {
        url: api.clone(),
        secret_token: "s".into(),
        allowed_updates: vec![],
        max_connections: None,
        drop_pending_updates: None,
    }));
    send(bot.send_message(&SendMessage::new(1, "x")));
    send(bot.send_photo(&media));
    send(bot.send_media_group(&group));
    send(bot.download_file("a/b"));
    send(bot.get_user_profile_photos(1, 1));
}

#[test]
fn telegram_client_refuses_odd_api_urls() {
    let ok = url::Url::parse("https://api.telegram.org").unwrap();
    let client = TelegramClient::new(&ok, Duration::from_secs(5)).unwrap();
    assert_eq!(
        format!("{client:?}"),
        "TelegramClient { api_url: \"https://api.telegram.org\" }"
    );
    let bad = url::Url::parse("ftp://api.telegram.org").unwrap();
    assert!(TelegramClient::new(&bad, Duration::from_secs(5)).is_err());
}

#[tokio::test]
async fn telegram_proxy_urls_of_each_scheme_are_taken_and_others_refused_unquoted() {
    let api = url::Url::parse("https://api.telegram.org").unwrap();
    let timeout = Duration::from_secs(5);
    for proxy in [
        "http://user:pa%40ss@127.0.0.1:3128",
        "https://proxy.example:8443",
        "socks5://user:pw@127.0.0.1:1080",
        "socks5h://127.0.0.1:1080",
    ] {
        let secret = SecretString::from(proxy.to_owned());
        TelegramClient::with_proxy(&api, timeout, Some(&secret))
            .unwrap_or_else(|e| panic!("{proxy}: {e:#}"));
    }
    let bad = SecretString::from("gopher://user:s3cret-pw@proxy.example".to_owned());
    let err = TelegramClient::with_proxy(&api, timeout, Some(&bad)).unwrap_err();
    assert!(!format!("{err:#}").contains("s3cret-pw"), "{err:#}");
}
