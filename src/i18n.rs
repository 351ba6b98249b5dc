//! The languages merchants and customers read: English, Russian and Spanish, as the CRM's
//! official modules ship. Texts are Fluent messages in `locales/{en,ru,es}/main.ftl`, compiled
//! into the binary; a missing message falls back to English.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would show up in HTML attributes,
        // in Telegram messages and in the CRM's copy of a card.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language we have texts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Ru,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::Es];

    /// The language's code, as in `<html lang>`, the `lang` cookie and the database.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Es => "es",
        }
    }

    /// Reads a language tag such as `ru`, `ru-RU` or `es_419` by its primary subtag;
    /// `None` for languages we have no texts in.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Lang::ALL
            .into_iter()
            .find(|lang| primary.eq_ignore_ascii_case(lang.code()))
    }

    /// The first language of an `Accept-Language` header we have texts in, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        accept_language::parse(header)
            .iter()
            .find_map(|tag| Lang::from_tag(tag))
    }

    fn id(self) -> LanguageIdentifier {
        // The codes are valid tags; parsing cannot fail.
        self.code().parse().expect("a valid language tag")
    }

    /// The message `key`, without arguments.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(&self.id(), key)
    }

    /// A text with its arguments.
    pub fn text(self, text: &Text) -> String {
        let text_of = self.lookup(text);
        if !text.sentence {
            return text_of;
        }
        let mut chars = text_of.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    fn lookup(self, text: &Text) -> String {
        if text.args.is_empty() {
            return self.t(text.key);
        }
        let args: HashMap<Cow<'static, str>, FluentValue> = text
            .args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Str(s) => FluentValue::from(s.clone()),
                    Arg::Num(n) => FluentValue::from(*n),
                    Arg::Text(t) => FluentValue::from(self.text(t)),
                };
                (Cow::Borrowed(*name), value)
            })
            .collect();
        LOCALES.lookup_with_args(&self.id(), text.key, &args)
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Something to tell someone, before it is put in their language: a message key and its
/// arguments. Errors a merchant sees give one (their `Display` stays English, for the logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
    /// Shown with its first letter upper-case (it may start with an argument, a host name).
    pub sentence: bool,
}

/// An argument of a [`Text`] (Fluent's own values are not `Sync`, and errors must be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Str(String),
    Num(i64),
    /// Another text, put in the same language.
    Text(Box<Text>),
}

/// English, for logs and for the errors' `Display`.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Lang::En.text(self))
    }
}

impl Text {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
            sentence: false,
        }
    }

    /// Starts with an upper-case letter, whatever its first argument.
    pub fn sentence(mut self) -> Self {
        self.sentence = true;
        self
    }

    /// Adds a string argument.
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, Arg::Str(value.into())));
        self
    }

    /// Adds an argument that is itself a text, in the same language.
    pub fn text(mut self, name: &'static str, value: Text) -> Self {
        self.args.push((name, Arg::Text(Box::new(value))));
        self
    }

    /// Adds a number argument (Fluent picks plural forms by it).
    pub fn num(mut self, name: &'static str, value: i64) -> Self {
        self.args.push((name, Arg::Num(value)));
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    #[test]
    fn tags_are_read_by_their_primary_subtag() {
        assert_eq!(Lang::from_tag("ru-RU"), Some(Lang::Ru));
        assert_eq!(Lang::from_tag("ES_419"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("en"), Some(Lang::En));
        assert_eq!(Lang::from_tag("de-DE"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::from_tag("rus"), None);
    }

    #[test]
    fn accept_language_takes_the_best_language_we_have() {
        assert_eq!(
            Lang::from_accept_language("de-DE,de;q=0.9,ru;q=0.8,en;q=0.5"),
            Some(Lang::Ru)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.3, es-MX;q=0.9"),
            Some(Lang::Es)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn texts_are_looked_up_in_their_language() {
        assert_eq!(Lang::Ru.t("connect-submit"), "Подключить");
        assert_eq!(Lang::Es.t("connect-submit"), "Conectar");
        assert_eq!(Lang::En.t("connect-submit"), "Connect");
    }

    /// The errors' `Display` (for logs) says what their English text says.
    #[test]
    fn english_texts_are_the_errors_display() {
        use crate::bridge::channels::{AddBotError, RemoveBotError};
        use crate::bridge::connect::ConnectError;
        use crate::bridge::simple_connection::RegisterError;
        use crate::domain::{ApiKeyError, MessengerKind};
        use crate::messenger::telegram::BotTokenError;

        let address = |raw: &str| {
            let policy = crate::crm::address::CrmPolicy::new(&crate::config::CrmSettings {
                allowed_domains: vec!["retailcrm.ru".into()],
                allow_http: false,
                allow_private_networks: false,
                timeout_seconds: 5,
            });
            match policy.parse(raw) {
                Err(e) => ConnectError::from(e),
                Ok(url) => panic!("{url} parsed"),
            }
        };
        let guard = crate::crm::guard::GuardError::Forbidden {
            host: "localhost".into(),
            ip: "127.0.0.1".parse().unwrap(),
            class: "loopback",
        };
        let connect = [
            address(""),
            address("ftp://x.retailcrm.ru"),
            address("https://a:b@x.retailcrm.ru"),
            address("http://x.retailcrm.ru"),
            address("https://x.retailcrm.ru:8443"),
            address("https://x.retailcrm.ru/admin"),
            address("https://[::1"),
            address("https://evil.example"),
            ConnectError::BlockedAddress(guard),
            ConnectError::ApiKey(ApiKeyError::Empty),
            ConnectError::ApiKey(ApiKeyError::TooLong),
            ConnectError::ApiKey(ApiKeyError::BadCharacters),
            ConnectError::Unreachable {
                url: "https://x.retailcrm.ru".into(),
                reason: "timed out".into(),
            },
            ConnectError::NotACrm("https://x.retailcrm.ru".into()),
            ConnectError::WrongKey,
            ConnectError::MissingScopes(vec!["a".into(), "b".into()]),
            ConnectError::NoApiV5(vec![]),
            ConnectError::NoApiV5(vec!["3.0".into(), "4.0".into()]),
            ConnectError::PaymentRequired("“no money”".into()),
            ConnectError::ChatsNotEnabled(Text::new("chats-no-endpoint")),
            ConnectError::ChatsNotEnabled(Text::new("chats-crm-said").arg("message", "“x”")),
            ConnectError::CrmError("HTTP 500: x".into()),
            ConnectError::Internal(anyhow::anyhow!("x")),
        ];
        for e in &connect {
            assert_eq!(e.to_string(), Lang::En.text(&e.text()), "{e:?}");
        }
        let kind = MessengerKind::Telegram;
        let bots = [
            AddBotError::Token(BotTokenError::Shape.text()),
            AddBotError::AccountDisabled,
            AddBotError::NeedsReconnect,
            AddBotError::TokenRejected(kind),
            AddBotError::MessengerUnreachable(kind, "timed out".into()),
            AddBotError::MessengerRefused(kind, "Bad Request".into()),
            AddBotError::TakenByAnotherAccount("shop_bot".into()),
            AddBotError::MgRefused("x".into()),
            AddBotError::MgUnreachable("x".into()),
        ];
        for e in &bots {
            assert_eq!(e.to_string(), Lang::En.text(&e.text()), "{e:?}");
        }
        for e in [
            RemoveBotError::NeedsReconnect,
            RemoveBotError::MgUnreachable("x".into()),
            RemoveBotError::MgRefused("x".into()),
        ] {
            assert_eq!(e.to_string(), Lang::En.text(&e.text()), "{e:?}");
        }
        for e in [
            BotTokenError::Empty,
            BotTokenError::Shape,
            BotTokenError::BadCharacters,
            BotTokenError::Length,
        ] {
            assert_eq!(e.to_string(), Lang::En.text(&e.text()), "{e:?}");
        }
        for e in [RegisterError::NoData, RegisterError::InvalidJson] {
            assert_eq!(e.to_string(), Lang::En.text(&e.text()), "{e:?}");
        }
        // And the other languages say something else.
        for e in &connect {
            assert_ne!(Lang::Ru.text(&e.text()), e.to_string(), "{e:?}");
            assert_ne!(Lang::Es.text(&e.text()), e.to_string(), "{e:?}");
        }
    }

    /// The message ids of a locale's `main.ftl`, and each one's variables (`$name`).
    fn messages_of(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        let path = format!("{}/locales/{}/main.ftl", env!("CARGO_MANIFEST_DIR"), lang);
        let source = std::fs::read_to_string(&path).unwrap();
        let resource = fluent_syntax::parser::parse(source.as_str())
            .unwrap_or_else(|(_, errors)| panic!("{path}: {errors:?}"));
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                ast::Entry::Message(m) => Some(m),
                _ => None,
            })
            .map(|m| {
                let mut vars = BTreeSet::new();
                if let Some(value) = &m.value {
                    variables(value, &mut vars);
                }
                (m.id.name.to_owned(), vars)
            })
            .collect()
    }

    fn variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for variant in variants {
                    variables(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, out)
            }
            _ => {}
        }
    }

    #[test]
    fn every_message_exists_in_every_language_with_the_same_arguments() {
        let english = messages_of(Lang::En);
        assert!(!english.is_empty());
        for lang in [Lang::Ru, Lang::Es] {
            let other = messages_of(lang);
            let missing: Vec<_> = english.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(
                extra.is_empty(),
                "{lang} has messages English lacks: {extra:?}"
            );
            for (key, vars) in &english {
                assert_eq!(&other[key], vars, "{lang}: the arguments of {key}");
            }
            // Each one loads and says something.
            for key in english.keys() {
                assert!(!lang.t(key).trim().is_empty(), "{lang}: {key}");
            }
        }
    }

    /// Every message id the code and the templates name (a string literal with a message
    /// prefix) exists.
    #[test]
    fn every_message_the_code_names_exists() {
        let english = messages_of(Lang::En);
        let prefixes: BTreeSet<&str> = english.keys().filter_map(|k| k.split('-').next()).collect();
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = Vec::new();
        for dir in ["src", "templates"] {
            collect_files(&std::path::Path::new(root).join(dir), &mut files);
        }
        let mut named = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for literal in text.split('"').skip(1).step_by(2) {
                let is_id = literal.contains('-')
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                let prefix = literal.split('-').next().unwrap_or_default();
                if is_id && prefixes.contains(prefix) {
                    named += 1;
                    assert!(
                        english.contains_key(literal),
                        "{}: no message {literal}",
                        file.display()
                    );
                }
            }
        }
        assert!(named > 20, "only {named} message ids found in the code");
    }

    fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect_files(&path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "html")
            ) {
                out.push(path);
            }
        }
    }
}
