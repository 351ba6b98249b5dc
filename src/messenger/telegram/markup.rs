//! Text markup both ways: Telegram's entities ↔ MG's `text.markup_formats` (bold, italic,
//! underline, strikethrough, link, inline and block monospace).
//!
//! UNVERIFIED: MG documents which formats a channel takes (`markup_formats`, client v0.0.13)
//! but not how marked-up text looks on the wire. We read it as the Markdown dialect that has
//! all seven: `**bold**`, `*italic*` (also `_italic_`), `__underline__`, `~~strike~~`,
//! `` `code` ``, a ```` ``` ```` block (a language may follow the opening fence) and
//! `[label](https://…)`; a backslash makes the next marker literal. HTML is ruled out: MG
//! HTML-escapes string fields (`mod:"trim,escape"`, v0.0.14), which would break tags.
//!
//! Tolerant choices, since the reading may be wrong:
//! - outbound, MG's HTML escapes (`&lt;`, `&amp;`, `&quot;`, `&#39;`) are decoded once before
//!   parsing, so the customer sees `<`, not `&lt;`; a marker without its closer stays text;
//! - inbound, the customer's own `*`, `_` and the like are not backslash-escaped: if MG shows
//!   text as it is, a stray backslash would be noise in every such message.

use std::ops::Range;

use crate::messenger::html::{escape_attr, escape_html, is_web_url, split_text, utf16_len};
use crate::messenger::telegram::MessageEntity;

/// The formats declared in the channel settings (`text.markup_formats`).
pub const MARKUP_FORMATS: [&str; 7] = [
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "link",
    "inline_monospace",
    "block_monospace",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Bold,
    Italic,
    Underline,
    Strike,
    Code,
    Pre,
    Link,
}

/// One format over `range` (bytes of the plain text); `extra` is a link's URL or a block's
/// language.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    format: Format,
    range: Range<usize>,
    extra: Option<String>,
}

/// Text without markers, and its spans: sorted by start, outer before inner, nested.
#[derive(Debug, Default, PartialEq, Eq)]
struct Marked {
    plain: String,
    spans: Vec<Span>,
}

// ---- Telegram → MG ----

/// A customer's text with its entities, in MG's markup. Kinds MG has no format for
/// (mentions, hashtags, spoilers, quotes, …) stay plain text.
pub fn to_mg(text: &str, entities: &[MessageEntity]) -> String {
    let mut spans: Vec<Span> = entities
        .iter()
        .filter_map(|entity| span_of(text, entity))
        .collect();
    spans.sort_by_key(|s| (s.range.start, std::cmp::Reverse(s.range.end)));
    let spans = nested(spans);
    render(
        text,
        0..text.len(),
        &spans,
        mg_open,
        mg_close,
        str::to_owned,
    )
}

fn span_of(text: &str, entity: &MessageEntity) -> Option<Span> {
    let format = match entity.kind.as_str() {
        "bold" => Format::Bold,
        "italic" => Format::Italic,
        "underline" => Format::Underline,
        "strikethrough" => Format::Strike,
        "code" => Format::Code,
        "pre" => Format::Pre,
        "text_link" => Format::Link,
        _ => return None,
    };
    let start = byte_at_utf16(text, entity.offset);
    let end = byte_at_utf16(text, entity.offset.saturating_add(entity.length));
    let mut range = start..end;
    if !matches!(format, Format::Code | Format::Pre) {
        // Markdown markers next to a space do not read as markers: keep spaces outside.
        let inner = &text[range.clone()];
        range.start += inner.len() - inner.trim_start().len();
        range.end -= inner.len() - inner.trim_end().len();
    }
    let extra = match format {
        Format::Link => Some(entity.url.clone().filter(|u| is_web_url(u))?),
        Format::Pre => entity.language.clone().filter(|l| is_language(l)),
        _ => None,
    };
    (range.start < range.end).then_some(Span {
        format,
        range,
        extra,
    })
}

/// Spans that overlap without nesting cannot be written as markers; the later one goes.
fn nested(spans: Vec<Span>) -> Vec<Span> {
    let mut kept: Vec<Span> = Vec::new();
    let mut open: Vec<Range<usize>> = Vec::new();
    for span in spans {
        while open.last().is_some_and(|o| o.end <= span.range.start) {
            open.pop();
        }
        if open.last().is_some_and(|o| span.range.end > o.end) {
            continue;
        }
        open.push(span.range.clone());
        kept.push(span);
    }
    kept
}

fn mg_open(span: &Span) -> String {
    match span.format {
        Format::Bold => "**".into(),
        Format::Italic => "*".into(),
        Format::Underline => "__".into(),
        Format::Strike => "~~".into(),
        Format::Code => "`".into(),
        Format::Pre => format!("```{}\n", span.extra.as_deref().unwrap_or("")),
        Format::Link => "[".into(),
    }
}

fn mg_close(span: &Span) -> String {
    match span.format {
        Format::Pre => "\n```".into(),
        Format::Link => format!("]({})", span.extra.as_deref().unwrap_or("")),
        _ => mg_open(span),
    }
}

/// The byte offset of a UTF-16 offset (Telegram counts UTF-16 units); one inside a character
/// moves to its end, one past the text to the end.
fn byte_at_utf16(text: &str, units: u32) -> usize {
    let mut seen = 0u32;
    for (at, c) in text.char_indices() {
        if seen >= units {
            return at;
        }
        seen += c.len_utf16() as u32;
    }
    text.len()
}

// ---- MG → Telegram ----

/// An operator's text as Telegram HTML messages of at most `limit` visible UTF-16 units each.
pub fn html_messages(mg_text: &str, limit: usize) -> Vec<String> {
    let marked = parse(&unescape_mg(mg_text));
    let base = marked.plain.as_ptr() as usize;
    split_text(&marked.plain, limit)
        .into_iter()
        .map(|piece| {
            let start = piece.as_ptr() as usize - base;
            html_of(&marked, start..start + piece.len())
        })
        .collect()
}

/// The whole text as Telegram HTML (a caption that fits).
pub fn html(mg_text: &str) -> String {
    let marked = parse(&unescape_mg(mg_text));
    html_of(&marked, 0..marked.plain.len())
}

/// What Telegram will count of the text: without markers.
pub fn visible_len(mg_text: &str) -> usize {
    utf16_len(&parse(&unescape_mg(mg_text)).plain)
}

fn html_of(marked: &Marked, range: Range<usize>) -> String {
    render(
        &marked.plain,
        range,
        &marked.spans,
        html_open,
        html_close,
        escape_html,
    )
}

fn html_open(span: &Span) -> String {
    match span.format {
        Format::Bold => "<b>".into(),
        Format::Italic => "<i>".into(),
        Format::Underline => "<u>".into(),
        Format::Strike => "<s>".into(),
        Format::Code => "<code>".into(),
        Format::Pre => match &span.extra {
            Some(lang) => format!("<pre><code class=\"language-{}\">", escape_attr(lang)),
            None => "<pre>".into(),
        },
        Format::Link => format!(
            "<a href=\"{}\">",
            escape_attr(span.extra.as_deref().unwrap_or(""))
        ),
    }
}

fn html_close(span: &Span) -> String {
    match span.format {
        Format::Bold => "</b>".into(),
        Format::Italic => "</i>".into(),
        Format::Underline => "</u>".into(),
        Format::Strike => "</s>".into(),
        Format::Code => "</code>".into(),
        Format::Pre if span.extra.is_some() => "</code></pre>".into(),
        Format::Pre => "</pre>".into(),
        Format::Link => "</a>".into(),
    }
}

/// MG's HTML escapes, decoded once (`&amp;lt;` is the text `&lt;`).
fn unescape_mg(text: &str) -> String {
    const ESCAPES: [(&str, char); 7] = [
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
        ("&#34;", '"'),
        ("&#39;", '\''),
        ("&apos;", '\''),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ESCAPES.iter().find(|(escape, _)| rest.starts_with(escape)) {
            Some((escape, c)) => {
                out.push(*c);
                rest = &rest[escape.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// MG markup read into plain text and spans (the dialect is in the module comment).
fn parse(text: &str) -> Marked {
    let mut marked = Marked::default();
    // Open spans: format, index in `marked.spans`, the marker that closes it.
    let mut open: Vec<(usize, &'static str)> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let prev = text[..i].chars().next_back();
        if let Some(c) = rest.strip_prefix('\\').and_then(|r| r.chars().next()) {
            if "\\*_~`[]()".contains(c) {
                marked.plain.push(c);
                i += 1 + c.len_utf8();
                continue;
            }
        }
        // Closing the innermost open span first.
        if let Some(&(index, closer)) = open.last() {
            if let Some(url_len) = closes(rest, closer, &marked.spans[index]) {
                let span = &mut marked.spans[index];
                span.range.end = marked.plain.len();
                if span.format == Format::Link {
                    span.extra = Some(rest[2..2 + url_len].to_owned());
                    i += 2 + url_len + 1;
                } else {
                    i += closer.len();
                }
                open.pop();
                continue;
            }
        }
        if let Some(step) = verbatim(rest, &mut marked) {
            i += step;
            continue;
        }
        if let Some((format, opener, closer)) = opens(rest, prev) {
            let body = &rest[opener.len()..];
            if body.starts_with(|c: char| !c.is_whitespace()) && has_closer(body, format, closer) {
                open.push((marked.spans.len(), closer));
                marked.spans.push(Span {
                    format,
                    range: marked.plain.len()..marked.plain.len(),
                    extra: None,
                });
                i += opener.len();
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        marked.plain.push(c);
        i += c.len_utf8();
    }
    // Unclosed spans run to the end; empty and unusable ones go.
    for (index, _) in open {
        marked.spans[index].range.end = marked.plain.len();
    }
    marked.spans.retain(|s| {
        !s.range.is_empty()
            && (s.format != Format::Link || s.extra.as_deref().is_some_and(is_web_url))
    });
    marked
}

/// Markers that open a span here, longest first.
fn opens(rest: &str, prev: Option<char>) -> Option<(Format, &'static str, &'static str)> {
    let after_word = prev.is_some_and(char::is_alphanumeric);
    [
        (Format::Bold, "**", "**"),
        (Format::Underline, "__", "__"),
        (Format::Strike, "~~", "~~"),
        (Format::Italic, "*", "*"),
        (Format::Italic, "_", "_"),
        (Format::Link, "[", "]("),
    ]
    .into_iter()
    // `snake_case` is no italic.
    .find(|(_, opener, _)| rest.starts_with(opener) && !(opener.starts_with('_') && after_word))
}

/// Whether the span's closer appears later (so a lone `*` stays text).
fn has_closer(body: &str, format: Format, closer: &str) -> bool {
    match format {
        Format::Link => body
            .find("](")
            .is_some_and(|at| link_url(&body[at..]).is_some()),
        _ => body.contains(closer),
    }
}

/// `Some(url length)` (0 for others) when `rest` closes the span: its marker, not followed by
/// a word for `_` markers; for a link, `](url)`.
fn closes(rest: &str, closer: &str, span: &Span) -> Option<usize> {
    if !rest.starts_with(closer) {
        return None;
    }
    match span.format {
        Format::Link => link_url(rest).map(str::len),
        _ if closer.starts_with('_') => {
            let next = rest[closer.len()..].chars().next();
            (!next.is_some_and(char::is_alphanumeric)).then_some(0)
        }
        _ => Some(0),
    }
}

/// The web URL of `](url)` at the start of `rest`; other schemes leave the link as text.
fn link_url(rest: &str) -> Option<&str> {
    let url = rest.strip_prefix("](")?;
    let url = &url[..url.find(')')?];
    is_web_url(url).then_some(url)
}

/// Code spans and blocks: their content is taken as it is. Returns the bytes consumed.
fn verbatim(rest: &str, marked: &mut Marked) -> Option<usize> {
    if let Some(body) = rest.strip_prefix("```") {
        let end = body.find("```")?;
        let inner = &body[..end];
        let (language, code) = match inner.split_once('\n') {
            Some((first, code)) if is_language(first.trim()) || first.trim().is_empty() => {
                (Some(first.trim()).filter(|l| !l.is_empty()), code)
            }
            _ => (None, inner),
        };
        let code = code.strip_suffix('\n').unwrap_or(code);
        push_verbatim(marked, Format::Pre, code, language.map(str::to_owned));
        return Some(3 + end + 3);
    }
    let body = rest.strip_prefix('`')?;
    let end = body.find('`').filter(|&end| end > 0)?;
    push_verbatim(marked, Format::Code, &body[..end], None);
    Some(1 + end + 1)
}

fn push_verbatim(marked: &mut Marked, format: Format, text: &str, extra: Option<String>) {
    let start = marked.plain.len();
    marked.plain.push_str(text);
    marked.spans.push(Span {
        format,
        range: start..marked.plain.len(),
        extra,
    });
}

/// A code block's language: one word like `rust` or `c++`.
fn is_language(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-#._".contains(c))
}

// ---- both ----

/// `plain[range]` with the spans' markers around their parts within the range.
fn render(
    plain: &str,
    range: Range<usize>,
    spans: &[Span],
    open: fn(&Span) -> String,
    close: fn(&Span) -> String,
    escape: fn(&str) -> String,
) -> String {
    let clipped: Vec<Span> = spans
        .iter()
        .filter_map(|s| {
            let start = s.range.start.max(range.start);
            let end = s.range.end.min(range.end);
            (start < end).then(|| Span {
                range: start..end,
                ..s.clone()
            })
        })
        .collect();
    let mut out = String::new();
    let mut stack: Vec<&Span> = Vec::new();
    let mut at = range.start;
    let close_until = |out: &mut String, stack: &mut Vec<&Span>, at: &mut usize, until| {
        while let Some(top) = stack.last().filter(|top| top.range.end <= until) {
            out.push_str(&escape(&plain[*at..top.range.end]));
            *at = top.range.end;
            out.push_str(&close(top));
            stack.pop();
        }
    };
    for span in &clipped {
        close_until(&mut out, &mut stack, &mut at, span.range.start);
        out.push_str(&escape(&plain[at..span.range.start]));
        at = span.range.start;
        out.push_str(&open(span));
        stack.push(span);
    }
    close_until(&mut out, &mut stack, &mut at, usize::MAX);
    out.push_str(&escape(&plain[at..range.end]));
    out
}

#[cfg(test)]
#[path = "markup_tests.rs"]
mod tests;
