//! HTML text for the messengers that take it (Telegram's HTML parse mode, MAX's `html`
//! format: both read `<b>`, `<i>`, `<a href>`, `<code>` and `<pre>`): escaping, splitting to a
//! messenger's limit, and formatted lines packed into messages.
//!
//! Lengths are counted in UTF-16 code units of the visible text, which is what Telegram limits
//! ("1–4096 characters after entities parsing"; a code unit count is never below the character
//! count, so it errs on the safe side for MAX's 4,000 characters too). Text is split first and
//! escaped after, so an escape sequence is never cut.

/// Text for Telegram's HTML parse mode.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value (`href`) also needs its quotes escaped.
pub fn escape_attr(text: &str) -> String {
    escape_html(text).replace('"', "&quot;")
}

pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// `text` in pieces of at most `limit` UTF-16 units, cut after a line break when there is one
/// in the second half of the piece, else at a space, else wherever the limit falls (at a
/// character boundary). Blank pieces are dropped: Telegram refuses empty messages.
pub fn split_text(text: &str, limit: usize) -> Vec<&str> {
    let limit = limit.max(1);
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        if utf16_len(rest) <= limit {
            if !is_blank(rest) {
                pieces.push(rest);
            }
            return pieces;
        }
        let mut units = 0;
        let mut cut = rest.len();
        for (at, c) in rest.char_indices() {
            if units + c.len_utf16() > limit {
                cut = at;
                break;
            }
            units += c.len_utf16();
        }
        let window = &rest[..cut];
        let floor = window.len() / 2;
        let boundary = window
            .rfind('\n')
            .filter(|&at| at >= floor && at > 0)
            .or_else(|| {
                window
                    .rfind(char::is_whitespace)
                    .filter(|&at| at >= floor && at > 0)
            });
        let (end, next) = match boundary {
            Some(at) => {
                let width = window[at..].chars().next().map_or(1, char::len_utf8);
                (at, at + width)
            }
            None => (cut, cut),
        };
        if !is_blank(&rest[..end]) {
            pieces.push(&rest[..end]);
        }
        rest = &rest[next..];
    }
}

/// Plain text as HTML messages of at most `limit` visible units each.
pub fn text_messages(text: &str, limit: usize) -> Vec<String> {
    split_text(text, limit)
        .into_iter()
        .map(escape_html)
        .collect()
}

/// One line of formatted text: its HTML and the text Telegram will show (for lengths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    html: String,
    plain: String,
}

impl Line {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn plain(mut self, text: &str) -> Self {
        self.html.push_str(&escape_html(text));
        self.plain.push_str(text);
        self
    }

    pub fn bold(mut self, text: &str) -> Self {
        self.html.push_str(&format!("<b>{}</b>", escape_html(text)));
        self.plain.push_str(text);
        self
    }

    /// A link with `label` shown; only web URLs become links, anything else stays text.
    pub fn link(mut self, url: &str, label: &str) -> Self {
        if is_web_url(url) {
            self.html.push_str(&format!(
                "<a href=\"{}\">{}</a>",
                escape_attr(url),
                escape_html(label)
            ));
            self.plain.push_str(label);
            self
        } else {
            self.plain(label)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.plain.trim().is_empty()
    }

    pub fn visible_len(&self) -> usize {
        utf16_len(&self.plain)
    }
}

/// Lines joined into as few messages as fit `limit`, breaking only between lines. A line longer
/// than a whole message (only absurd data makes one) is sent as plain split text.
pub fn pack_lines(lines: &[Line], limit: usize) -> Vec<String> {
    let mut messages = Vec::new();
    let mut html = String::new();
    let mut used = 0;
    for line in lines.iter().filter(|l| !l.is_empty()) {
        let len = line.visible_len();
        if len > limit {
            if !html.is_empty() {
                messages.push(std::mem::take(&mut html));
                used = 0;
            }
            messages.extend(text_messages(&line.plain, limit));
            continue;
        }
        let needed = if html.is_empty() { len } else { len + 1 };
        if used + needed > limit {
            messages.push(std::mem::take(&mut html));
            used = 0;
        }
        if !html.is_empty() {
            html.push('\n');
            used += 1;
        }
        html.push_str(&line.html);
        used += len;
    }
    if !html.is_empty() {
        messages.push(html);
    }
    messages
}

pub fn visible_len(lines: &[Line]) -> usize {
    let shown: Vec<&Line> = lines.iter().filter(|l| !l.is_empty()).collect();
    shown.iter().map(|l| l.visible_len()).sum::<usize>() + shown.len().saturating_sub(1)
}

pub fn is_web_url(url: &str) -> bool {
    url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("a < b && c > d \"q\""),
            "a &lt; b &amp;&amp; c &gt; d \"q\""
        );
        assert_eq!(
            escape_attr("https://x/?a=1&b=\"2\""),
            "https://x/?a=1&amp;b=&quot;2&quot;"
        );
    }

    #[test]
    fn short_text_is_one_piece_and_blank_text_none() {
        assert_eq!(split_text("hello", 4096), ["hello"]);
        assert!(split_text("  \n ", 4096).is_empty());
        assert!(split_text("", 4096).is_empty());
    }

    #[test]
    fn long_text_splits_at_line_breaks_then_spaces_then_anywhere() {
        let text = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
        assert_eq!(
            split_text(&text, 4096),
            ["a".repeat(3000), "b".repeat(3000)]
        );

        let words = "word ".repeat(1000); // 5000 characters
        let pieces = split_text(&words, 4096);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| utf16_len(p) <= 4096));
        assert!(pieces[0].ends_with("word"), "cut at a space");
        assert_eq!(pieces.concat().matches("word").count(), 1000);

        let solid = "x".repeat(9000);
        let pieces = split_text(&solid, 4096);
        assert_eq!(
            pieces.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [4096, 4096, 808]
        );
    }

    #[test]
    fn lengths_are_utf16_and_characters_are_never_cut() {
        // Each emoji is two UTF-16 units.
        let emoji = "😀".repeat(3000);
        let pieces = split_text(&emoji, 4096);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].chars().count(), 2048);
        assert_eq!(pieces.concat(), emoji);
    }

    #[test]
    fn escaping_happens_after_splitting() {
        let text = "<".repeat(5000);
        let messages = text_messages(&text, 4096);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], "&lt;".repeat(4096));
        assert_eq!(messages[1], "&lt;".repeat(904));
    }

    #[test]
    fn lines_pack_into_messages_by_visible_length() {
        let lines = vec![
            Line::new().bold("Title <1>"),
            Line::new().link("https://x.example/?a=1&b=2", "link"),
            Line::new().plain(""),
            Line::new().plain("tail"),
        ];
        assert_eq!(visible_len(&lines), "Title <1>\nlink\ntail".len());
        assert_eq!(
            pack_lines(&lines, 4096),
            ["<b>Title &lt;1&gt;</b>\n<a href=\"https://x.example/?a=1&amp;b=2\">link</a>\ntail"]
        );
        assert_eq!(
            pack_lines(&lines, 14),
            [
                "<b>Title &lt;1&gt;</b>\n<a href=\"https://x.example/?a=1&amp;b=2\">link</a>",
                "tail"
            ]
        );
        let huge = vec![Line::new().bold(&"z".repeat(10))];
        assert_eq!(pack_lines(&huge, 4), ["zzzz", "zzzz", "zz"]);
        assert_eq!(
            Line::new().link("javascript:alert(1)", "x"),
            Line::new().plain("x")
        );
    }
}
