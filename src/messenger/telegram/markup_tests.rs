use super::*;
use serde_json::json;

fn entities(value: serde_json::Value) -> Vec<MessageEntity> {
    serde_json::from_value(value).unwrap()
}

/// What MG does to string fields on its side (`mod:"escape"`, as we read it).
fn mg_escapes(text: &str) -> String {
    escape_attr(text).replace('\'', "&#39;")
}

#[test]
fn telegram_entities_become_mg_markup_counting_utf16() {
    // 👍 is two UTF-16 units: offsets after it must not shift.
    let text = "👍 new <price> & \"offer\" at shop";
    let marked = to_mg(
        text,
        &entities(json!([
            {"type": "bold", "offset": 3, "length": 3},
            {"type": "italic", "offset": 7, "length": 7},
            {"type": "text_link", "offset": 17, "length": 7, "url": "https://shop.example/?a=1&b=\"2\""},
            {"type": "mention", "offset": 28, "length": 4}
        ])),
    );
    assert_eq!(
        marked,
        "👍 **new** *<price>* & [\"offer\"](https://shop.example/?a=1&b=\"2\") at shop"
    );
}

#[test]
fn every_format_round_trips_through_mg() {
    let text = "🎉 b i u s c & pre <x> link";
    let marked = to_mg(
        text,
        &entities(json!([
            {"type": "bold", "offset": 3, "length": 1},
            {"type": "italic", "offset": 5, "length": 1},
            {"type": "underline", "offset": 7, "length": 1},
            {"type": "strikethrough", "offset": 9, "length": 1},
            {"type": "code", "offset": 11, "length": 1},
            {"type": "pre", "offset": 15, "length": 8, "language": "rust"},
            {"type": "text_link", "offset": 23, "length": 4, "url": "https://e.example/"}
        ])),
    );
    assert_eq!(
        marked,
        "🎉 **b** *i* __u__ ~~s~~ `c` & ```rust\npre <x> \n```[link](https://e.example/)"
    );
    // Back to Telegram, after MG escaped it: the same text, formatted.
    assert_eq!(
        html(&mg_escapes(&marked)),
        "🎉 <b>b</b> <i>i</i> <u>u</u> <s>s</s> <code>c</code> &amp; \
         <pre><code class=\"language-rust\">pre &lt;x&gt; </code></pre>\
         <a href=\"https://e.example/\">link</a>"
    );
}

#[test]
fn nested_formats_and_spaces_inside_entities() {
    let text = "a bold italic z";
    let marked = to_mg(
        text,
        &entities(json!([
            {"type": "bold", "offset": 2, "length": 12},
            {"type": "italic", "offset": 7, "length": 7}
        ])),
    );
    // The bold entity's trailing space stays outside the markers.
    assert_eq!(marked, "a **bold *italic*** z");
    assert_eq!(html(&marked), "a <b>bold <i>italic</i></b> z");
}

#[test]
fn operator_markup_becomes_telegram_html_with_everything_escaped() {
    assert_eq!(
        html("**Price** for <b> & \"you\": ~~10~~ 8 €, see [the shop](https://shop.example/?q=\"a\"&x=<1>)"),
        "<b>Price</b> for &lt;b&gt; &amp; \"you\": <s>10</s> 8 €, see \
         <a href=\"https://shop.example/?q=&quot;a&quot;&amp;x=&lt;1&gt;\">the shop</a>"
    );
    // MG's own escapes are decoded once.
    assert_eq!(
        html("&lt;b&gt; &amp;amp; &quot;q&quot; &#39;s&#39; *it*"),
        "&lt;b&gt; &amp;amp; \"q\" 's' <i>it</i>"
    );
}

#[test]
fn lone_markers_snake_case_and_escapes_stay_text() {
    assert_eq!(html("2 * 3 = 6"), "2 * 3 = 6");
    assert_eq!(
        html("order_id_42 and _this_"),
        "order_id_42 and <i>this</i>"
    );
    assert_eq!(html(r"\*not bold\*"), "*not bold*");
    assert_eq!(
        html("[a link](javascript:alert(1))"),
        "[a link](javascript:alert(1))"
    );
    assert_eq!(html("`a <b>` and ``"), "<code>a &lt;b&gt;</code> and ``");
    assert_eq!(html("```\nfn main() {}\n```"), "<pre>fn main() {}</pre>");
}

#[test]
fn long_text_is_split_with_formats_closed_in_each_piece() {
    let text = format!("**{} {}**", "a".repeat(6), "b".repeat(6));
    assert_eq!(html_messages(&text, 8), ["<b>aaaaaa</b>", "<b>bbbbbb</b>"]);
    assert_eq!(visible_len(&text), 13);
}
