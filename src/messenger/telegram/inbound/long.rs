//! Texts longer than MG takes. The Transport API allows 0..65,535 characters in a message's
//! `text` (and 1..65,535 in an edit). A Telegram text is at most 4,096, but a message built
//! from other fields, or a sender not bound by Telegram's client, may be longer.
//!
//! The choice: a new message is split into several MG messages, in order, so nothing the
//! customer wrote is lost; the first keeps the message's external id (replies, edits and
//! reactions name it), the k-th after it is `"{id}#k"`, so a retried job sends each part once
//! (MG refuses a duplicate external id, which counts as delivered). An edit can replace only
//! the one MG message, so it is cut, ending with a marker saying so.

use crate::mg::NewMessage;

/// MG's limit on `text`, in characters.
pub const MG_TEXT_LIMIT: usize = 65_535;

/// Ends an edit cut to the limit.
const CUT_MARKER: &str = "\n[…cut: the text is longer than the CRM allows]";

/// `new` as one or more MG messages, each with at most `MG_TEXT_LIMIT` characters of text.
pub fn split_long(new: NewMessage) -> Vec<NewMessage> {
    let Some(text) = new
        .text
        .as_deref()
        .filter(|t| t.chars().count() > MG_TEXT_LIMIT)
    else {
        return vec![new];
    };
    let parts = chunks(text, MG_TEXT_LIMIT);
    parts
        .into_iter()
        .enumerate()
        .map(|(k, part)| NewMessage {
            external_id: match (k, &new.external_id) {
                (0, id) => id.clone(),
                (k, id) => id.as_ref().map(|id| format!("{id}#{k}")),
            },
            text: Some(part),
            // A file goes with the first part only.
            items: if k == 0 { new.items.clone() } else { None },
            note: if k == 0 { new.note.clone() } else { None },
            ..new.clone()
        })
        .collect()
}

/// An edited text, cut to the limit with a marker when longer.
pub fn cut_long(text: String) -> String {
    if text.chars().count() <= MG_TEXT_LIMIT {
        return text;
    }
    let keep = MG_TEXT_LIMIT - CUT_MARKER.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(CUT_MARKER);
    cut
}

/// Consecutive pieces of at most `max` characters, broken after a newline or a space in a
/// piece's last tenth when there is one, so words stay whole.
fn chunks(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        let end = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..end];
        let floor = rest
            .char_indices()
            .nth(max - max / 10)
            .map_or(0, |(i, _)| i);
        let at = window[floor..]
            .rfind(['\n', ' '])
            .map_or(end, |i| floor + i + 1);
        parts.push(rest[..at].to_owned());
        rest = &rest[at..];
    }
    parts.push(rest.to_owned());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_split_in_order_with_stable_ids_and_nothing_lost() {
        let text = format!(
            "{} {}",
            "a".repeat(MG_TEXT_LIMIT - 10),
            "b".repeat(MG_TEXT_LIMIT)
        );
        let parts = split_long(NewMessage::text("5:9", text.clone()));
        let ids: Vec<_> = parts
            .iter()
            .map(|p| p.external_id.clone().unwrap())
            .collect();
        assert_eq!(ids, ["5:9", "5:9#1"]);
        let texts: Vec<String> = parts.iter().map(|p| p.text.clone().unwrap()).collect();
        assert!(texts.iter().all(|t| t.chars().count() <= MG_TEXT_LIMIT));
        assert!(texts[0].ends_with(' '), "broken at the space");
        assert_eq!(texts.concat(), text);

        let exact = "я".repeat(MG_TEXT_LIMIT);
        assert_eq!(split_long(NewMessage::text("1:1", exact)).len(), 1);
        let unbroken = "я".repeat(MG_TEXT_LIMIT * 2 + 1);
        let parts = split_long(NewMessage::text("1:1", unbroken.clone()));
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts
                .iter()
                .map(|p| p.text.clone().unwrap())
                .collect::<String>(),
            unbroken
        );
    }

    #[test]
    fn a_long_edit_is_cut_with_a_marker() {
        let cut = cut_long("x".repeat(MG_TEXT_LIMIT + 1));
        assert_eq!(cut.chars().count(), MG_TEXT_LIMIT);
        assert!(cut.ends_with(CUT_MARKER));
        assert_eq!(cut_long("short".into()), "short");
    }
}
