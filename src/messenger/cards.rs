//! Order and product cards, and templates sent without their text, as readable HTML lines.

use super::html::{is_blank, is_web_url, Line};
use crate::i18n::{Lang, Text};
use crate::mg::{Cost, MessageOrder, MessageProduct, OrderStatusCode, WebhookTemplate};

/// `17 400 ₽`, `$12.50`, `3 CHF`: grouped digits, decimals only when there are any, the
/// currency's sign where it is customary and its code otherwise.
pub fn money(cost: &Cost) -> String {
    let value = if cost.value.is_finite() {
        cost.value
    } else {
        0.0
    };
    let cents = (value.abs() * 100.0).round() as u128;
    let whole = group_digits(&(cents / 100).to_string());
    let fraction = cents % 100;
    let mut number = if fraction == 0 {
        whole
    } else {
        format!("{whole}.{fraction:02}")
    };
    if value < 0.0 {
        number.insert(0, '-');
    }
    let code = cost.currency.trim().to_ascii_uppercase();
    match code.as_str() {
        "USD" => format!("${number}"),
        "GBP" => format!("£{number}"),
        "EUR" => format!("{number} €"),
        "RUB" | "RUR" => format!("{number} ₽"),
        "UAH" => format!("{number} ₴"),
        "KZT" => format!("{number} ₸"),
        "BYN" => format!("{number} Br"),
        "" => number,
        _ => format!("{number} {code}"),
    }
}

/// `17400` → `17 400`, with a no-break space so a price never wraps.
fn group_digits(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

fn quantity(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A label of a card line, such as "Article: ".
fn label(lang: Lang, key: &str) -> String {
    format!("{} ", lang.t(key))
}

/// A product card: name, price (per unit), article, link. Labels are in the account's language.
pub fn product_card(product: &MessageProduct, lang: Lang) -> Vec<Line> {
    let mut lines = vec![Line::new().bold(product.name.trim())];
    if let Some(cost) = product.cost.as_ref().filter(|c| c.value > 0.0) {
        let mut price = money(cost);
        if let Some(unit) = product.unit.as_deref().filter(|u| !is_blank(u)) {
            price = format!("{price} / {}", unit.trim());
        }
        lines.push(Line::new().plain(&price));
    }
    if let Some(article) = product.article.as_deref().filter(|a| !is_blank(a)) {
        lines.push(
            Line::new()
                .plain(&label(lang, "card-article"))
                .plain(article.trim()),
        );
    }
    if let Some(url) = product.url.as_deref().filter(|u| is_web_url(u)) {
        lines.push(Line::new().link(url, url));
    }
    lines
}

/// An order card: number and date, status, items with quantity and price, delivery, payments,
/// discount, total, link. Labels are in the account's language.
pub fn order_card(order: &MessageOrder, lang: Lang) -> Vec<Line> {
    let mut lines = Vec::new();
    let title = match order.number.as_deref().filter(|n| !is_blank(n)) {
        Some(number) => lang.text(&Text::new("card-order-number").arg("number", number.trim())),
        None => lang.t("card-order"),
    };
    let mut head = Line::new().bold(&title);
    if let Some(date) = order.date {
        head = head.plain(&format!(
            " ({:02}.{:02}.{})",
            date.day(),
            u8::from(date.month()),
            date.year()
        ));
    }
    lines.push(head);
    if let Some(status) = &order.status {
        let name = status
            .name
            .clone()
            .filter(|n| !is_blank(n))
            .or_else(|| status.code.map(|c| lang.t(status_key(c))));
        if let Some(name) = name {
            lines.push(
                Line::new()
                    .plain(&label(lang, "card-status"))
                    .plain(name.trim()),
            );
        }
    }
    let items = order.items.as_deref().unwrap_or_default();
    for (n, item) in items.iter().enumerate() {
        let name = item.name.as_deref().filter(|n| !is_blank(n)).unwrap_or("—");
        let mut line = Line::new().plain(&format!("{}. ", n + 1));
        line = match item.url.as_deref().filter(|u| is_web_url(u)) {
            Some(url) => line.link(url, name.trim()),
            None => line.plain(name.trim()),
        };
        let count = item.quantity.as_ref().map(|q| {
            let unit = q.unit.as_deref().filter(|u| !is_blank(u));
            match unit {
                Some(unit) => format!("{} {}", quantity(q.value), unit.trim()),
                None => quantity(q.value),
            }
        });
        match (count, item.price.as_ref()) {
            (Some(count), Some(price)) => {
                line = line.plain(&format!(" — {count} × {}", money(price)))
            }
            (Some(count), None) => line = line.plain(&format!(" — {count}")),
            (None, Some(price)) => line = line.plain(&format!(" — {}", money(price))),
            (None, None) => {}
        }
        lines.push(line);
    }
    if let Some(delivery) = &order.delivery {
        let mut line = Line::new().plain(&label(lang, "card-delivery"));
        let mut said = false;
        if let Some(name) = delivery.name.as_deref().filter(|n| !is_blank(n)) {
            line = line.plain(name.trim());
            said = true;
        }
        if let Some(price) = &delivery.price {
            line = line.plain(&format!("{}{}", if said { ", " } else { "" }, money(price)));
            said = true;
        }
        if said {
            lines.push(line);
        }
        if let Some(address) = delivery.address.as_deref().filter(|a| !is_blank(a)) {
            lines.push(
                Line::new()
                    .plain(&label(lang, "card-address"))
                    .plain(address.trim()),
            );
        }
        if let Some(comment) = delivery.comment.as_deref().filter(|c| !is_blank(c)) {
            lines.push(Line::new().plain(comment.trim()));
        }
    }
    for payment in order.payments.as_deref().unwrap_or_default() {
        let mut parts = Vec::new();
        if let Some(name) = payment.name.as_deref().filter(|n| !is_blank(n)) {
            parts.push(name.trim().to_owned());
        }
        if let Some(amount) = &payment.amount {
            parts.push(money(amount));
        }
        if let Some(status) = &payment.status {
            let said = status.name.clone().filter(|n| !is_blank(n)).or_else(|| {
                status
                    .payed
                    .map(|p| lang.t(if p { "card-paid" } else { "card-not-paid" }))
            });
            if let Some(said) = said {
                parts.push(format!("({})", said.trim()));
            }
        }
        if !parts.is_empty() {
            lines.push(
                Line::new()
                    .plain(&label(lang, "card-payment"))
                    .plain(&parts.join(" ")),
            );
        }
    }
    if let Some(discount) = order.discount.as_ref().filter(|d| d.value > 0.0) {
        lines.push(
            Line::new()
                .plain(&label(lang, "card-discount"))
                .plain(&money(discount)),
        );
    }
    if let Some(cost) = &order.cost {
        let total = Text::new("card-total").arg("amount", money(cost));
        lines.push(Line::new().bold(&lang.text(&total)));
    }
    if let Some(url) = order.url.as_deref().filter(|u| is_web_url(u)) {
        lines.push(Line::new().link(url, url));
    }
    lines
}

fn status_key(code: OrderStatusCode) -> &'static str {
    match code {
        OrderStatusCode::New => "card-status-new",
        OrderStatusCode::Approval => "card-status-approval",
        OrderStatusCode::Assembling => "card-status-assembling",
        OrderStatusCode::Delivery => "card-status-delivery",
        OrderStatusCode::Complete => "card-status-complete",
        OrderStatusCode::Cancel => "card-status-cancelled",
    }
}

// ---------------------------------------------------------------------------------------------
// Templates

/// A template sent without `content` (MG normally fills it with the rendered text): we do not
/// have the template's wording here, so show what we have, readably: a title made from its code
/// (`ns#thanks_for_order#ru` → "thanks for order"), the header's and body's values, and the
/// buttons' titles with their values. Tolerant of every part missing; `None` when nothing is left.
pub fn template_text(template: &WebhookTemplate) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(code) = template.code.as_deref() {
        let segments: Vec<&str> = code.split('#').filter(|s| !is_blank(s)).collect();
        let name = match segments.as_slice() {
            [_, name, _] => *name,
            [_, name] => *name,
            _ => code,
        };
        let title = name.replace('_', " ");
        if !is_blank(&title) {
            lines.push(title.trim().to_owned());
        }
    }
    let variables = template.variables.clone().unwrap_or_default();
    if let Some(header) = &variables.header {
        if !header.args.is_empty() {
            lines.push(header.args.join(" "));
        }
    }
    let body = variables
        .body
        .as_ref()
        .map(|b| b.args.clone())
        .filter(|args| !args.is_empty())
        .unwrap_or_else(|| template.args.clone());
    if !body.is_empty() {
        lines.push(body.join(", "));
    }
    for button in &variables.buttons {
        let title = button.title.as_deref().filter(|t| !is_blank(t));
        match (title, button.args.is_empty()) {
            (Some(title), true) => lines.push(title.trim().to_owned()),
            (Some(title), false) => {
                lines.push(format!("{}: {}", title.trim(), button.args.join(" ")))
            }
            (None, false) => lines.push(button.args.join(" ")),
            (None, true) => {}
        }
    }
    let text = lines.join("\n");
    (!is_blank(&text)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messenger::html::pack_lines;
    use crate::mg::{
        OrderDelivery, OrderItem, OrderPayment, OrderStatus, PaymentStatus, Quantity,
        TemplateBodyVariables, TemplateButtonVariables, TemplateVariables,
    };

    fn cost(value: f64, currency: &str) -> Cost {
        Cost {
            value,
            currency: currency.into(),
        }
    }

    #[test]
    fn money_is_grouped_with_the_currency_sign() {
        assert_eq!(money(&cost(17400.0, "RUB")), "17\u{a0}400 ₽");
        assert_eq!(money(&cost(12.5, "USD")), "$12.50");
        assert_eq!(money(&cost(1234567.891, "EUR")), "1\u{a0}234\u{a0}567.89 €");
        assert_eq!(money(&cost(3.0, "chf")), "3 CHF");
        assert_eq!(money(&cost(999.0, "")), "999");
    }

    #[test]
    fn a_product_card_shows_name_price_article_and_link() {
        let product = MessageProduct {
            name: "Red <dress>".into(),
            article: Some("RD-42".into()),
            url: Some("https://shop.example/p/42".into()),
            img: Some("https://shop.example/p/42.jpg".into()),
            cost: Some(cost(8700.0, "RUB")),
            unit: Some("pcs".into()),
            ..Default::default()
        };
        assert_eq!(
            pack_lines(&product_card(&product, Lang::En), 4096),
            ["<b>Red &lt;dress&gt;</b>\n8\u{a0}700 ₽ / pcs\nArticle: RD-42\n<a href=\"https://shop.example/p/42\">https://shop.example/p/42</a>"]
        );
        let bare = MessageProduct {
            name: "Gift card".into(),
            cost: Some(cost(0.0, "RUB")),
            ..Default::default()
        };
        assert_eq!(
            pack_lines(&product_card(&bare, Lang::En), 4096),
            ["<b>Gift card</b>"]
        );
    }

    #[test]
    fn an_order_card_lists_items_delivery_payments_and_total() {
        let order = MessageOrder {
            number: Some("8061C".into()),
            url: Some("https://shop.example/o/8061".into()),
            date: Some(time::macros::datetime!(2026-07-01 10:00 UTC)),
            cost: Some(cost(17700.0, "RUB")),
            discount: Some(cost(300.0, "RUB")),
            status: Some(OrderStatus {
                code: Some(OrderStatusCode::Assembling),
                name: None,
            }),
            delivery: Some(OrderDelivery {
                name: Some("Courier".into()),
                price: Some(cost(300.0, "RUB")),
                address: Some("Main St 1".into()),
                comment: Some("Call first".into()),
            }),
            payments: Some(vec![OrderPayment {
                name: Some("Card".into()),
                amount: Some(cost(17700.0, "RUB")),
                status: Some(PaymentStatus {
                    name: None,
                    payed: Some(true),
                }),
            }]),
            items: Some(vec![
                OrderItem {
                    name: Some("Red dress".into()),
                    price: Some(cost(8700.0, "RUB")),
                    quantity: Some(Quantity {
                        value: 2.0,
                        unit: Some("pcs".into()),
                    }),
                    ..Default::default()
                },
                OrderItem {
                    name: Some("Belt".into()),
                    url: Some("https://shop.example/p/7".into()),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let text = pack_lines(&order_card(&order, Lang::En), 4096).join("");
        assert_eq!(
            text,
            "<b>Order 8061C</b> (01.07.2026)\n\
             Status: assembling\n\
             1. Red dress — 2 pcs × 8\u{a0}700 ₽\n\
             2. <a href=\"https://shop.example/p/7\">Belt</a>\n\
             Delivery: Courier, 300 ₽\n\
             Address: Main St 1\n\
             Call first\n\
             Payment: Card 17\u{a0}700 ₽ (paid)\n\
             Discount: 300 ₽\n\
             <b>Total: 17\u{a0}700 ₽</b>\n\
             <a href=\"https://shop.example/o/8061\">https://shop.example/o/8061</a>"
        );
        assert_eq!(
            pack_lines(&order_card(&MessageOrder::default(), Lang::En), 4096),
            ["<b>Order</b>"]
        );
    }

    #[test]
    fn card_labels_are_in_the_accounts_language() {
        let order = MessageOrder {
            number: Some("8061C".into()),
            cost: Some(cost(17700.0, "RUB")),
            status: Some(OrderStatus {
                code: Some(OrderStatusCode::Complete),
                name: None,
            }),
            payments: Some(vec![OrderPayment {
                name: Some("Card".into()),
                amount: None,
                status: Some(PaymentStatus {
                    name: None,
                    payed: Some(false),
                }),
            }]),
            ..Default::default()
        };
        assert_eq!(
            pack_lines(&order_card(&order, Lang::Ru), 4096).join(""),
            "<b>Заказ №8061C</b>\nСтатус: выполнен\nОплата: Card (не оплачено)\n\
             <b>Итого: 17\u{a0}700 ₽</b>"
        );
        assert_eq!(
            pack_lines(&order_card(&order, Lang::Es), 4096).join(""),
            "<b>Pedido 8061C</b>\nEstado: completado\nPago: Card (no pagado)\n\
             <b>Total: 17\u{a0}700 ₽</b>"
        );
        let product = MessageProduct {
            name: "Vestido".into(),
            article: Some("RD-42".into()),
            ..Default::default()
        };
        assert_eq!(
            pack_lines(&product_card(&product, Lang::Es), 4096),
            ["<b>Vestido</b>\nReferencia: RD-42"]
        );
        assert_eq!(
            pack_lines(&product_card(&product, Lang::Ru), 4096),
            ["<b>Vestido</b>\nАртикул: RD-42"]
        );
    }

    #[test]
    fn templates_without_content_show_their_values() {
        let template = WebhookTemplate {
            code: Some("ns#thanks_for_order#ru".into()),
            category: None,
            variables: Some(TemplateVariables {
                header: None,
                body: Some(TemplateBodyVariables {
                    args: vec!["8061C".into(), "17400".into()],
                }),
                buttons: vec![TemplateButtonVariables {
                    r#type: Some("url".into()),
                    title: Some("Track".into()),
                    args: vec!["8061".into()],
                }],
            }),
            args: vec![],
        };
        assert_eq!(
            template_text(&template).as_deref(),
            Some("thanks for order\n8061C, 17400\nTrack: 8061")
        );
        let old = WebhookTemplate {
            code: Some("greeting".into()),
            args: vec!["Anna".into()],
            ..Default::default()
        };
        assert_eq!(template_text(&old).as_deref(), Some("greeting\nAnna"));
        assert_eq!(template_text(&WebhookTemplate::default()), None);
    }
}
