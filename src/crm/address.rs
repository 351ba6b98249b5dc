//! Which CRM addresses the connect form may call: the URL's shape, the host allow-list, and
//! (in `guard`) the addresses the host resolves to. The merchant types this URL, so it is
//! untrusted input that makes us send requests: an SSRF vector unless every step is checked.

use url::{Host, Url};

use crate::config::CrmSettings;
use crate::domain::CrmUrl;
use crate::i18n::Text;

/// Why a typed CRM address was refused before any request was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The text says why, for the merchant (`address-*` messages).
    #[error("not a valid URL: {0}")]
    Invalid(Text),
    #[error("host {0} is not an allowed CRM domain")]
    HostNotAllowed(String),
}

/// `crm.*` settings, pre-processed once.
#[derive(Debug, Clone)]
pub struct CrmPolicy {
    allowed_domains: Option<Vec<String>>, // None = "*"
    pub allow_http: bool,
    pub allow_private_networks: bool,
}

impl CrmPolicy {
    pub fn new(settings: &CrmSettings) -> Self {
        let domains: Vec<String> = settings
            .allowed_domains
            .iter()
            .map(|d| {
                d.trim()
                    .trim_start_matches("*.")
                    .trim_matches('.')
                    .to_ascii_lowercase()
            })
            .filter(|d| !d.is_empty())
            .collect();
        let any = settings.allowed_domains.iter().any(|d| d.trim() == "*");
        Self {
            allowed_domains: (!any).then_some(domains),
            allow_http: settings.allow_http,
            allow_private_networks: settings.allow_private_networks,
        }
    }

    /// Parses what the merchant typed into the CRM's origin. Tolerant of a missing scheme and
    /// a trailing slash (merchants paste `acme.retailcrm.ru/`); strict about everything else,
    /// as RetailCRM's own validator is: https only, no port, no path, query, fragment or
    /// user info. `crm.allow_http` (development and tests) also allows http and a port.
    pub fn parse(&self, raw: &str) -> Result<CrmUrl, AddressError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(AddressError::Invalid(Text::new("address-empty")));
        }
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| {
            AddressError::Invalid(
                Text::new("address-unreadable")
                    .arg("address", raw)
                    .arg("error", e.to_string()),
            )
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(AddressError::Invalid(Text::new("address-https-only"))),
            other => {
                return Err(AddressError::Invalid(
                    Text::new("address-not-web").arg("scheme", other),
                ))
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(AddressError::Invalid(Text::new("address-user-info")));
        }
        if url.port().is_some() && !self.allow_http {
            return Err(AddressError::Invalid(Text::new("address-port")));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(AddressError::Invalid(Text::new("address-path")));
        }
        let host = match url.host() {
            Some(Host::Domain(d)) => d.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return Err(AddressError::Invalid(Text::new("address-no-host"))),
        };
        if !self.host_allowed(&host) {
            return Err(AddressError::HostNotAllowed(host));
        }
        Ok(CrmUrl::from_trusted(
            url.as_str().trim_end_matches('/').to_owned(),
        ))
    }

    fn host_allowed(&self, host: &str) -> bool {
        let Some(domains) = &self.allowed_domains else {
            return true;
        };
        let host = host.trim_end_matches('.');
        domains.iter().any(|d| {
            host == d
                || host
                    .strip_suffix(d.as_str())
                    .is_some_and(|p| p.ends_with('.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(domains: &[&str], allow_http: bool) -> CrmPolicy {
        CrmPolicy::new(&CrmSettings {
            allowed_domains: domains.iter().map(|d| d.to_string()).collect(),
            allow_http,
            allow_private_networks: false,
            timeout_seconds: 5,
        })
    }

    #[test]
    fn saas_addresses_are_normalised() {
        let p = policy(&["retailcrm.ru", "simla.com"], false);
        for raw in [
            "https://acme.retailcrm.ru",
            "https://acme.retailcrm.ru/",
            "acme.retailcrm.ru",
            "  HTTPS://ACME.RetailCRM.ru/  ",
        ] {
            assert_eq!(
                p.parse(raw).unwrap().as_str(),
                "https://acme.retailcrm.ru",
                "{raw}"
            );
        }
        assert_eq!(
            p.parse("https://x.simla.com").unwrap().as_str(),
            "https://x.simla.com"
        );
    }

    #[test]
    fn the_official_validators_rejections_are_rejected() {
        let p = policy(
            &[
                "retailcrm.ru",
                "retailcrm.pro",
                "retailcrm.es",
                "simla.com",
                "simlachat.com",
            ],
            false,
        );
        for raw in [
            "https://asd.retailcrm.ru:90",
            "https://test.retailcrm.pro/test",
            "http://raisa.retailcrm.es",
            "https://blabla.simla.com#test",
            "https://test:test@blabla.simlachat.com",
            "https://acme.retailcrm.ru/?a=b",
            "ftp://acme.retailcrm.ru",
            "",
        ] {
            assert!(
                matches!(p.parse(raw), Err(AddressError::Invalid(_))),
                "{raw}"
            );
        }
    }

    #[test]
    fn hosts_outside_the_allowed_domains_are_refused() {
        let p = policy(&["retailcrm.ru"], false);
        for raw in [
            "https://evil.example.com",
            "https://acme.retailcrm.ru.evil.com",
            "https://evilretailcrm.ru",
            "https://127.0.0.1",
        ] {
            assert!(
                matches!(p.parse(raw), Err(AddressError::HostNotAllowed(_))),
                "{raw}"
            );
        }
        assert!(p.parse("https://retailcrm.ru").is_ok());
    }

    #[test]
    fn a_star_allows_any_host_and_allow_http_allows_ports() {
        let p = policy(&["*"], true);
        assert_eq!(
            p.parse("http://127.0.0.1:8081").unwrap().as_str(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(
            p.parse("https://crm.my-company.de").unwrap().as_str(),
            "https://crm.my-company.de"
        );
    }
}
