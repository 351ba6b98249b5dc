//! The language of a page: `?lang=` first (and then remembered in a `lang` cookie), then the
//! `lang` cookie, then `Accept-Language`, then English.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;

use super::pages::{message_page, MessageText, PRODUCT};
use crate::i18n::Lang;

const COOKIE: &str = "lang";
/// A year: the merchant's choice outlives the browser session.
const COOKIE_MAX_AGE: u32 = 365 * 24 * 3600;

/// The page's language, and whether `?lang=` chose it.
fn choose(uri: &Uri, headers: &HeaderMap) -> (Lang, bool) {
    if let Some(lang) = from_query(uri) {
        return (lang, true);
    }
    let lang = from_cookie(headers)
        .or_else(|| {
            headers
                .get_all(header::ACCEPT_LANGUAGE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(Lang::from_accept_language)
        })
        .unwrap_or_default();
    (lang, false)
}

fn from_query(uri: &Uri) -> Option<Lang> {
    let query = uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "lang")
        .and_then(|(_, value)| Lang::from_tag(&value))
}

fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| Lang::from_tag(value))
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(choose(&parts.uri, &parts.headers).0)
    }
}

/// Around the pages: remembers a `?lang=` in the cookie, and shows an error page (rendered in
/// English where the error was turned into a response) in the page's language.
pub async fn remember(request: Request, next: Next) -> Response {
    let (lang, from_query) = choose(request.uri(), request.headers());
    let mut response = next.run(request).await;
    if let Some(text) = response.extensions_mut().remove::<MessageText>() {
        if lang != Lang::En {
            *response.body_mut() =
                message_page(lang, PRODUCT, response.status(), &text).into_body();
        }
    }
    if from_query {
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(uri: &str, headers: &[(&str, &str)]) -> (Lang, bool) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                name.parse::<header::HeaderName>().unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        choose(&uri.parse().unwrap(), &map)
    }

    #[test]
    fn the_query_then_the_cookie_then_the_header_then_english() {
        let all = [("cookie", "a=b; lang=es"), ("accept-language", "ru")];
        assert_eq!(pick("/?lang=ru-RU", &all[..1]), (Lang::Ru, true));
        assert_eq!(pick("/?account=x&lang=en", &all), (Lang::En, true));
        assert_eq!(pick("/", &all), (Lang::Es, false));
        assert_eq!(pick("/?lang=de", &all), (Lang::Es, false));
        assert_eq!(pick("/", &all[1..]), (Lang::Ru, false));
        assert_eq!(
            pick("/", &[("cookie", "lang=xx"), ("accept-language", "es")]),
            (Lang::Es, false)
        );
        assert_eq!(
            pick("/", &[("accept-language", "de, fr")]),
            (Lang::En, false)
        );
        assert_eq!(pick("/", &[]), (Lang::En, false));
    }
}
