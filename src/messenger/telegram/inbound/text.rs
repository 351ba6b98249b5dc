//! Readable text for what MG has no message type for: contacts, places, polls, and files the
//! bot may not download. Operators read these in the CRM's chat, so they are short, start
//! with an emoji saying what they are, and carry a link where one helps. They are in the
//! customer's language (Telegram's `language_code`; English when we have no texts in it).

use crate::i18n::{Lang, Text};
use crate::messenger::telegram::{
    Chat, Checklist, Contact, Dice, Giveaway, GiveawayWinners, Location, MessageOrigin,
    PaidMediaInfo, Payment, Poll, Story, User, Venue, WebAppData,
};

/// "📍 Location: 55.75, 37.61 https://maps.google.com/?q=55.75,37.61".
pub fn location_text(location: &Location, lang: Lang) -> String {
    let key = if location.live_period.is_some() {
        "customer-live-location"
    } else {
        "customer-location"
    };
    lang.text(
        &Text::new(key)
            .arg("latitude", location.latitude.to_string())
            .arg("longitude", location.longitude.to_string())
            .arg("map", map_link(location)),
    )
}

/// "📍 Shop, Main St 1 https://maps.google.com/?q=52.52,13.405".
pub fn venue_text(venue: &Venue, lang: Lang) -> String {
    let place: Vec<&str> = [venue.title.trim(), venue.address.trim()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    if place.is_empty() {
        return location_text(&venue.location, lang);
    }
    format!("📍 {} {}", place.join(", "), map_link(&venue.location))
}

/// "👤 Contact: Eve Smith, +4915112345678".
pub fn contact_text(contact: &Contact, lang: Lang) -> String {
    let name = full_name(&contact.first_name, contact.last_name.as_deref());
    let text = if name.is_empty() {
        Text::new("customer-contact-phone")
    } else {
        Text::new("customer-contact").arg("name", name)
    };
    lang.text(&text.arg("phone", contact.phone_number.as_str()))
}

/// "📊 Poll: Colour?" and one "• option" line per option.
pub fn poll_text(poll: &Poll, lang: Lang) -> String {
    let key = if poll.kind == "quiz" {
        "customer-quiz"
    } else {
        "customer-poll"
    };
    let mut text = lang.text(&Text::new(key).arg("question", poll.question.as_str()));
    for option in &poll.options {
        text.push_str("\n• ");
        text.push_str(&option.text);
    }
    text
}

/// The first line of a forwarded message: "↪ Forwarded from Anna K".
pub fn forwarded_line(origin: &MessageOrigin, lang: Lang) -> String {
    let name = match origin.kind.as_str() {
        "user" => origin.sender_user.as_ref().map(user_name),
        "hidden_user" => origin.sender_user_name.clone(),
        "chat" => origin.sender_chat.as_ref().map(chat_name),
        "channel" => origin.chat.as_ref().map(chat_name),
        _ => None,
    };
    let name = name.filter(|n| !n.trim().is_empty()).map(|name| {
        match origin.author_signature.as_deref().map(str::trim) {
            Some(author) if !author.is_empty() => format!("{name} ({author})"),
            _ => name,
        }
    });
    match name {
        Some(name) => lang.text(&Text::new("customer-forwarded").arg("name", name)),
        None => lang.t("customer-forwarded-unknown"),
    }
}

/// "🎲 Dice: 4" (also darts, dice-like slot machines, …: Telegram draws the value).
pub fn dice_text(dice: &Dice, lang: Lang) -> String {
    let emoji = if dice.emoji.trim().is_empty() {
        "🎲"
    } else {
        dice.emoji.as_str()
    };
    lang.text(
        &Text::new("customer-dice")
            .arg("emoji", emoji)
            .arg("value", dice.value.to_string()),
    )
}

/// "📰 A story from Shop (it opens only in Telegram)": a bot cannot fetch a story.
pub fn story_text(story: &Story, lang: Lang) -> String {
    match story.chat.as_ref().map(chat_name).filter(|n| !n.is_empty()) {
        Some(name) => lang.text(&Text::new("customer-story").arg("name", name)),
        None => lang.t("customer-story-unknown"),
    }
}

/// "☑️ Checklist: Order" and one "☐ task" / "☑ task" line per task.
pub fn checklist_text(checklist: &Checklist, lang: Lang) -> String {
    let mut text =
        lang.text(&Text::new("customer-checklist").arg("title", checklist.title.as_str()));
    for task in &checklist.tasks {
        text.push_str(if task.completion_date > 0 {
            "\n☑ "
        } else {
            "\n☐ "
        });
        text.push_str(&task.text);
    }
    text
}

/// "⭐ Paid media for 50 Stars (…)", then the caption.
pub fn paid_media_text(paid: &PaidMediaInfo, caption: Option<&str>, lang: Lang) -> String {
    let text =
        lang.text(&Text::new("customer-paid-media").arg("stars", paid.star_count.to_string()));
    with_caption(text, caption)
}

/// "🎁 Giveaway, winners: 3", then the prize.
pub fn giveaway_text(giveaway: &Giveaway, lang: Lang) -> String {
    let text =
        lang.text(&Text::new("customer-giveaway").arg("count", giveaway.winner_count.to_string()));
    with_caption(text, giveaway.prize_description.as_deref())
}

/// "🏆 Giveaway winners (2): Anna, Bo", then the prize.
pub fn giveaway_winners_text(winners: &GiveawayWinners, lang: Lang) -> String {
    let names: Vec<String> = winners.winners.iter().map(user_name).collect();
    let text = lang.text(
        &Text::new("customer-giveaway-winners")
            .arg("count", winners.winner_count.to_string())
            .arg("names", names.join(", ")),
    );
    with_caption(text, winners.prize_description.as_deref())
}

/// "🧩 Web app data (Order): {…}": what a Web App keyboard button sent.
pub fn web_app_data_text(data: &WebAppData, lang: Lang) -> String {
    lang.text(
        &Text::new("customer-web-app-data")
            .arg("button", data.button_text.as_str())
            .arg("data", data.data.as_str()),
    )
}

/// An invoice, a payment or a refund: "💳 Payment: 12.50 EUR".
pub fn payment_text(key: &'static str, payment: &Payment, lang: Lang) -> String {
    lang.text(
        &Text::new(key)
            .arg("title", payment.title.clone().unwrap_or_default())
            .arg("amount", amount(payment.total_amount, &payment.currency))
            .arg("currency", payment.currency.as_str()),
    )
}

/// A service message we only name, by its Bot API field.
pub fn service_text(kind: &str, lang: Lang) -> String {
    lang.text(&Text::new("customer-service").arg("kind", kind))
}

/// An amount in the currency's smallest unit, written in its main unit: Stars and the common
/// ISO 4217 currencies without a minor unit are whole; the rest are taken to have two.
fn amount(total: i64, currency: &str) -> String {
    const WHOLE: [&str; 12] = [
        "XTR", "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "PYG", "RWF", "XAF", "XOF", "KMF",
    ];
    if WHOLE.contains(&currency) {
        return total.to_string();
    }
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    format!("{sign}{}.{:02}", total / 100, total % 100)
}

fn with_caption(mut text: String, caption: Option<&str>) -> String {
    if let Some(caption) = caption.filter(|c| !c.trim().is_empty()) {
        text.push_str("\n\n");
        text.push_str(caption);
    }
    text
}

/// A user's name, else their @username.
fn user_name(user: &User) -> String {
    let name = full_name(&user.first_name, user.last_name.as_deref());
    match (&user.username, name.is_empty()) {
        (Some(username), true) => format!("@{username}"),
        _ => name,
    }
}

/// A chat's title, else its name, else its @username.
fn chat_name(chat: &Chat) -> String {
    let name = chat.title.clone().unwrap_or_else(|| {
        full_name(
            chat.first_name.as_deref().unwrap_or(""),
            chat.last_name.as_deref(),
        )
    });
    match (&chat.username, name.trim().is_empty()) {
        (Some(username), true) => format!("@{username}"),
        _ => name.trim().to_owned(),
    }
}

/// "📎 video.mp4 (35.2 MB) — too large for the bot to download; …", then the caption.
pub fn too_large_notice(
    name: &str,
    size: Option<u64>,
    caption: Option<&str>,
    lang: Lang,
) -> String {
    let notice = match size {
        Some(bytes) => Text::new("customer-too-large-sized").text("size", megabytes(bytes)),
        None => Text::new("customer-too-large"),
    };
    let mut text = lang.text(&notice.arg("name", name));
    if let Some(caption) = caption.filter(|c| !c.trim().is_empty()) {
        text.push_str("\n\n");
        text.push_str(caption);
    }
    text
}

/// "First Last", either part optional.
pub fn full_name(first: &str, last: Option<&str>) -> String {
    format!("{} {}", first.trim(), last.unwrap_or("").trim())
        .trim()
        .to_owned()
}

/// At most `max` characters (MG counts characters, not bytes).
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

fn map_link(location: &Location) -> String {
    format!(
        "https://maps.google.com/?q={},{}",
        location.latitude, location.longitude
    )
}

/// Binary megabytes with one decimal, as Telegram's 20 MB limit counts them.
fn megabytes(bytes: u64) -> Text {
    let size = format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
    Text::new("customer-megabytes").arg("size", size)
}

/// What a file without a name is called in a notice (`content::Media::what`).
pub fn file_kind(what: &str, lang: Lang) -> String {
    lang.t(match what {
        "photo" => "customer-file-photo",
        "animation" => "customer-file-animation",
        "video" => "customer-file-video",
        "video message" => "customer-file-video-message",
        "voice message" => "customer-file-voice-message",
        "audio" => "customer-file-audio",
        "sticker" => "customer-file-sticker",
        _ => "customer-file",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messenger::telegram::PollOption;

    fn location(latitude: f64, longitude: f64) -> Location {
        Location {
            latitude,
            longitude,
            horizontal_accuracy: None,
            live_period: None,
        }
    }

    #[test]
    fn places_read_as_text_with_a_map_link() {
        assert_eq!(
            location_text(&location(55.75, 37.61), Lang::En),
            "📍 Location: 55.75, 37.61 https://maps.google.com/?q=55.75,37.61"
        );
        let live = Location {
            live_period: Some(900),
            ..location(-33.8688, 151.2093)
        };
        assert_eq!(
            location_text(&live, Lang::En),
            "📍 Live location: -33.8688, 151.2093 https://maps.google.com/?q=-33.8688,151.2093"
        );
        let venue = Venue {
            location: location(52.52, 13.405),
            title: "Shop".into(),
            address: "Main St 1".into(),
        };
        assert_eq!(
            venue_text(&venue, Lang::En),
            "📍 Shop, Main St 1 https://maps.google.com/?q=52.52,13.405"
        );
    }

    #[test]
    fn contacts_and_polls_read_as_text() {
        let contact = Contact {
            phone_number: "+4915112345678".into(),
            first_name: "Eve".into(),
            last_name: Some("Smith".into()),
            user_id: None,
            vcard: None,
        };
        assert_eq!(
            contact_text(&contact, Lang::En),
            "👤 Contact: Eve Smith, +4915112345678"
        );
        let poll = Poll {
            id: "p".into(),
            question: "Colour?".into(),
            options: vec![
                PollOption {
                    text: "red".into(),
                    voter_count: 0,
                },
                PollOption {
                    text: "blue".into(),
                    voter_count: 0,
                },
            ],
            total_voter_count: 0,
            is_closed: false,
            is_anonymous: true,
            kind: "regular".into(),
            allows_multiple_answers: false,
        };
        assert_eq!(
            poll_text(&poll, Lang::En),
            "📊 Poll: Colour?\n• red\n• blue"
        );
    }

    #[test]
    fn the_too_large_notice_names_the_file_and_keeps_the_caption() {
        assert_eq!(
            too_large_notice("video.mp4", Some(36_909_875), Some("our order"), Lang::En),
            "📎 video.mp4 (35.2 MB) — too large for the bot to download; ask the customer to \
             send it another way\n\nour order"
        );
        assert_eq!(
            too_large_notice("video", None, None, Lang::En),
            "📎 video — too large for the bot to download; ask the customer to send it another way"
        );
    }

    #[test]
    fn the_texts_are_in_the_customers_language() {
        let live = Location {
            live_period: Some(900),
            ..location(55.75, 37.61)
        };
        assert_eq!(
            location_text(&live, Lang::Ru),
            "📍 Трансляция геопозиции: 55.75, 37.61 https://maps.google.com/?q=55.75,37.61"
        );
        assert_eq!(
            location_text(&location(40.4, -3.7), Lang::Es),
            "📍 Ubicación: 40.4, -3.7 https://maps.google.com/?q=40.4,-3.7"
        );
        let contact = Contact {
            phone_number: "+79001234567".into(),
            first_name: "Анна".into(),
            last_name: None,
            user_id: None,
            vcard: None,
        };
        assert_eq!(
            contact_text(&contact, Lang::Ru),
            "👤 Контакт: Анна, +79001234567"
        );
        assert_eq!(
            too_large_notice("video.mp4", Some(36_909_875), None, Lang::Ru),
            "📎 video.mp4 (35.2 МБ) — слишком большой файл, бот не может его скачать; попросите \
             клиента прислать его другим способом"
        );
        assert_eq!(
            too_large_notice(
                &file_kind("voice message", Lang::Es),
                None,
                Some("hola"),
                Lang::Es
            ),
            "📎 mensaje de voz — archivo demasiado grande para que el bot lo descargue; pida al \
             cliente que lo envíe de otra forma\n\nhola"
        );
        assert_eq!(file_kind("photo", Lang::En), "photo");
        assert_eq!(file_kind("anything", Lang::Ru), "файл");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("Счёт", 2), "Сч");
        assert_eq!(truncate_chars("ab", 5), "ab");
    }
}
