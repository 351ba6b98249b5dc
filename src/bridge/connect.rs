//! Connecting a CRM account (integration guide steps 4–7): check the address and the key,
//! register the module, store the account. Nothing is stored unless every step succeeded.

use crate::crm::address::{AddressError, CrmPolicy};
use crate::crm::guard::{self, GuardError};
use crate::crm::{
    Credentials, CrmClient, CrmError, IntegrationModule, MgTransportConfig, MgTransportInfo,
    ModuleActions, ModuleIntegrations,
};
use crate::domain::{ApiKey, ApiKeyError, ClientId, CrmUrl, MgToken};
use crate::i18n::{Lang, Text};
use crate::store::{ConnectedAccount, Store};

/// Scopes a key needs (mg-transport-core `DefaultScopes`).
pub const REQUIRED_SCOPES: [&str; 2] = ["integration_read", "integration_write"];
/// The same rights for keys made before scopes existed (mg-transport-core
/// `DefaultCredentials`; matched literally, `{code}` included).
pub const REQUIRED_CREDENTIALS: [&str; 2] = [
    "/api/integration-modules/{code}",
    "/api/integration-modules/{code}/edit",
];

/// Everything the connect flow needs, built once at start.
#[derive(Debug, Clone)]
pub struct Connector {
    pub policy: CrmPolicy,
    pub crm: CrmClient,
    pub store: Store,
    pub module: ModuleIdentity,
}

/// How this deployment presents itself to the CRM.
#[derive(Debug, Clone)]
pub struct ModuleIdentity {
    pub code: String,
    pub name: String,
    pub logo_url: String,
    /// `server.public_url` without a trailing slash.
    pub base_url: String,
}

impl ModuleIdentity {
    pub fn account_url(&self, client_id: &ClientId) -> String {
        format!("{}/settings/{}", self.base_url, client_id.as_str())
    }

    pub fn mg_webhook_url(&self) -> String {
        format!("{}/webhook/mg", self.base_url)
    }

    /// The `integrationModule` object of `protocol/system-api.md` §4.1.
    pub fn integration_module(&self, client_id: &ClientId) -> IntegrationModule {
        IntegrationModule {
            code: self.code.clone(),
            integration_code: self.code.clone(),
            active: true,
            name: self.name.clone(),
            logo: self.logo_url.clone(),
            client_id: client_id.as_str().to_owned(),
            base_url: self.base_url.clone(),
            account_url: self.account_url(client_id),
            actions: ModuleActions {
                activity: "/activity".into(),
            },
            integrations: ModuleIntegrations {
                mg_transport: MgTransportConfig {
                    webhook_url: self.mg_webhook_url(),
                },
            },
        }
    }
}

/// Every way connecting can fail, each with a message the merchant can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("The CRM address is not valid: {0}.")]
    InvalidUrl(Text),
    #[error("{0} is not a CRM address this module may connect to. Enter your CRM's own address, like https://yourshop.retailcrm.ru.")]
    HostNotAllowed(String),
    #[error("{}. This module only connects to CRMs on the public internet.", capitalise(&.0.to_string()))]
    BlockedAddress(GuardError),
    #[error("{0}")]
    ApiKey(#[from] ApiKeyError),
    #[error("Could not reach the CRM at {url} ({reason}). Check the address and try again.")]
    Unreachable { url: String, reason: String },
    #[error(
        "{0} does not answer like a CRM. Check that this is the address you open your CRM at."
    )]
    NotACrm(String),
    #[error("The CRM does not accept this API key. Copy the key again from the CRM's Settings → Integration → API keys.")]
    WrongKey,
    #[error("This API key lacks the rights {}. In the CRM, edit the key, allow them, and try again.", .0.join(", "))]
    MissingScopes(Vec<String>),
    #[error("This CRM does not offer API version 5 (it offers {}). This module needs API v5.", if .0.is_empty() { "none".to_owned() } else { .0.join(", ") })]
    NoApiV5(Vec<String>),
    #[error("The CRM refused to activate the module for lack of funds: {0}. Top up the CRM account's balance, then connect again.")]
    PaymentRequired(String),
    /// The text says why (`chats-*` messages).
    #[error("The CRM did not register the module's chat transport ({0}). Check that chats are enabled in the CRM's settings, then connect again.")]
    ChatsNotEnabled(Text),
    #[error("The CRM answered with an error ({0}). Try again in a few minutes.")]
    CrmError(String),
    #[error("Something went wrong on our side. Try again in a few minutes.")]
    Internal(#[source] anyhow::Error),
}

impl From<AddressError> for ConnectError {
    fn from(e: AddressError) -> Self {
        match e {
            AddressError::Invalid(reason) => Self::InvalidUrl(reason),
            AddressError::HostNotAllowed(host) => Self::HostNotAllowed(host),
        }
    }
}

impl ConnectError {
    /// What the merchant reads, in their language (`Display` is the English, for logs).
    pub fn text(&self) -> Text {
        match self {
            Self::InvalidUrl(reason) => {
                Text::new("error-connect-invalid-url").text("reason", reason.clone())
            }
            Self::HostNotAllowed(host) => {
                Text::new("error-connect-host-not-allowed").arg("host", host)
            }
            Self::BlockedAddress(GuardError::Forbidden { host, ip, class }) => {
                Text::new("error-connect-blocked")
                    .arg("host", host)
                    .arg("ip", ip.to_string())
                    .arg("class", *class)
                    .sentence()
            }
            Self::BlockedAddress(GuardError::Unresolvable { host }) => {
                Text::new("error-connect-unresolvable").arg("host", host)
            }
            Self::ApiKey(e) => e.text(),
            Self::Unreachable { url, reason } => Text::new("error-connect-unreachable")
                .arg("url", url)
                .arg("reason", reason),
            Self::NotACrm(url) => Text::new("error-connect-not-a-crm").arg("url", url),
            Self::WrongKey => Text::new("error-connect-wrong-key"),
            Self::MissingScopes(scopes) => {
                Text::new("error-connect-missing-scopes").arg("scopes", scopes.join(", "))
            }
            Self::NoApiV5(versions) if versions.is_empty() => Text::new("error-connect-no-api-v5")
                .text("versions", Text::new("error-connect-no-versions")),
            Self::NoApiV5(versions) => {
                Text::new("error-connect-no-api-v5").arg("versions", versions.join(", "))
            }
            Self::PaymentRequired(message) => {
                Text::new("error-connect-payment").arg("message", message)
            }
            Self::ChatsNotEnabled(reason) => {
                Text::new("error-connect-chats").text("reason", reason.clone())
            }
            Self::CrmError(reason) => Text::new("error-connect-crm").arg("reason", reason),
            Self::Internal(_) => Text::new("error-internal"),
        }
    }

    /// Failures that come from what the merchant typed, rather than from the CRM or from us.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidUrl(_)
                | Self::HostNotAllowed(_)
                | Self::BlockedAddress(_)
                | Self::ApiKey(_)
                | Self::WrongKey
                | Self::MissingScopes(_)
        )
    }
}

impl Connector {
    /// Runs the whole flow and returns the account's clientId (new, or the existing one when
    /// this CRM was connected before).
    #[tracing::instrument(skip_all)]
    /// `language`: the page's the merchant connected from; the account's cards use it unless
    /// the CRM names its own.
    pub async fn connect(
        &self,
        crm_url: &str,
        api_key: &str,
        language: Lang,
    ) -> Result<ClientId, ConnectError> {
        let crm = self.policy.parse(crm_url)?;
        let key = ApiKey::parse(api_key)?;
        tracing::info!(crm = %crm, "connecting a CRM account");
        self.check_address(&crm).await?;

        let credentials = self
            .crm
            .credentials(&crm, &key)
            .await
            .map_err(|e| from_credentials_error(&crm, e))?;
        check_rights(&credentials)?;

        let versions = self
            .crm
            .api_versions(&crm, &key)
            .await
            .map_err(|e| from_credentials_error(&crm, e))?;
        if !versions.iter().any(|v| v.trim().starts_with("5.")) {
            return Err(ConnectError::NoApiV5(versions));
        }

        // Reconnecting keeps the clientId the CRM already knows.
        let existing = self
            .store
            .find_account_by_crm_url(&crm)
            .await
            .map_err(|e| ConnectError::Internal(e.into()))?;
        let client_id = existing
            .map(|a| a.client_id)
            .unwrap_or_else(ClientId::generate);

        let module = self.module.integration_module(&client_id);
        let info = self
            .crm
            .edit_integration_module(&crm, &key, &module)
            .await
            .map_err(|e| from_edit_error(&crm, e))?;
        let MgTransportInfo {
            endpoint_url,
            token,
        } = info.ok_or_else(|| ConnectError::ChatsNotEnabled(Text::new("chats-no-endpoint")))?;
        let endpoint = parse_mg_endpoint(&endpoint_url)?;
        self.check_mg_endpoint(&endpoint).await?;
        if token.trim().is_empty() {
            return Err(ConnectError::ChatsNotEnabled(Text::new(
                "chats-empty-token",
            )));
        }

        // The account's cards are in the CRM's own language where it names one we have texts
        // in, else in the page's. Which scope reading the settings needs is UNVERIFIED: a
        // refusal, like an answer without the setting, only means the page's language.
        let language = match self.crm.system_language(&crm, &key).await {
            Ok(tag) => tag.as_deref().and_then(Lang::from_tag).unwrap_or(language),
            Err(e) => {
                tracing::info!(error = %e, "the CRM's system language could not be read; the page's is kept");
                language
            }
        };

        self.store
            .save_connected_account(&ConnectedAccount {
                client_id: &client_id,
                crm_url: &crm,
                api_key: &key,
                mg_endpoint_url: &endpoint,
                mg_token: &MgToken::new(token),
                language,
            })
            .await
            .map_err(|e| ConnectError::Internal(e.into()))?;
        tracing::info!(crm = %crm, "CRM account connected");
        Ok(client_id)
    }

    /// The MG endpoint comes from the CRM's answer: a CRM of the merchant's own (with
    /// `crm.allowed_domains = "*"`) could name an internal address, and every later MG call
    /// would go there. Same guard as for the CRM itself; the MG client re-checks on connect.
    async fn check_mg_endpoint(&self, endpoint: &str) -> Result<(), ConnectError> {
        if self.policy.allow_private_networks {
            return Ok(());
        }
        let url = url::Url::parse(endpoint)
            .map_err(|_| ConnectError::ChatsNotEnabled(Text::new("chats-unusable-endpoint")))?;
        check_public_url(&url).await
    }

    async fn check_address(&self, crm: &CrmUrl) -> Result<(), ConnectError> {
        if self.policy.allow_private_networks {
            return Ok(());
        }
        let url = url::Url::parse(crm.as_str()).map_err(|e| {
            ConnectError::InvalidUrl(
                Text::new("address-unreadable")
                    .arg("address", crm.as_str())
                    .arg("error", e.to_string()),
            )
        })?;
        match guard::check_url(&url).await {
            Ok(_) => Ok(()),
            Err(e @ GuardError::Forbidden { .. }) => Err(ConnectError::BlockedAddress(e)),
            Err(GuardError::Unresolvable { .. }) => Err(ConnectError::Unreachable {
                url: crm.to_string(),
                reason: "the name does not resolve".into(),
            }),
        }
    }
}

/// mg-transport-core's rule: scopes decide; the old method list is consulted only for keys
/// that have no scopes at all.
pub fn check_rights(credentials: &Credentials) -> Result<(), ConnectError> {
    let missing = |have: &[String], want: &[&str]| -> Vec<String> {
        want.iter()
            .filter(|w| !have.iter().any(|h| h == *w))
            .map(|w| w.to_string())
            .collect()
    };
    let missing_scopes = missing(&credentials.scopes, &REQUIRED_SCOPES);
    if missing_scopes.is_empty() {
        return Ok(());
    }
    if !credentials.scopes.is_empty() {
        return Err(ConnectError::MissingScopes(missing_scopes));
    }
    let missing_methods = missing(&credentials.credentials, &REQUIRED_CREDENTIALS);
    if missing_methods.is_empty() {
        Ok(())
    } else {
        // An old key lacking methods: name the scopes, which is what today's CRM lets the
        // merchant tick.
        Err(ConnectError::MissingScopes(missing_scopes))
    }
}

fn from_credentials_error(crm: &CrmUrl, e: CrmError) -> ConnectError {
    match e {
        CrmError::Unreachable(reason) => ConnectError::Unreachable {
            url: crm.to_string(),
            reason,
        },
        CrmError::NotACrm { .. } => ConnectError::NotACrm(crm.to_string()),
        CrmError::Api {
            status: 401 | 403, ..
        } => ConnectError::WrongKey,
        CrmError::Api { message, .. } if message.contains("apiKey") => ConnectError::WrongKey,
        CrmError::Api { message, .. }
            if message.contains("Account does not exist")
                || message.contains("API method not found") =>
        {
            ConnectError::NotACrm(crm.to_string())
        }
        CrmError::Api {
            status, message, ..
        } => ConnectError::CrmError(format!("HTTP {status}: {message}")),
    }
}

fn from_edit_error(crm: &CrmUrl, e: CrmError) -> ConnectError {
    match e {
        CrmError::Api {
            status: 402,
            message,
            details,
        } => ConnectError::PaymentRequired(join_message(&message, &details)),
        CrmError::Api {
            status, message, ..
        } if status >= 500 => ConnectError::CrmError(format!("HTTP {status}: {message}")),
        CrmError::Api { message, .. } if message.contains("apiKey") => ConnectError::WrongKey,
        CrmError::Api {
            message, details, ..
        } => ConnectError::ChatsNotEnabled(
            Text::new("chats-crm-said").arg("message", join_message(&message, &details)),
        ),
        other => from_credentials_error(crm, other),
    }
}

fn join_message(message: &str, details: &[String]) -> String {
    if details.is_empty() {
        format!("“{message}”")
    } else {
        format!("“{message}: {}”", details.join("; "))
    }
}

/// Refuses an MG endpoint on a forbidden address (see `Connector::check_mg_endpoint`).
async fn check_public_url(url: &url::Url) -> Result<(), ConnectError> {
    match guard::check_url(url).await {
        Ok(_) => Ok(()),
        Err(e @ GuardError::Forbidden { .. }) => Err(ConnectError::ChatsNotEnabled(
            Text::new("chats-endpoint-not-public").arg("reason", e.to_string()),
        )),
        Err(GuardError::Unresolvable { .. }) => Err(ConnectError::ChatsNotEnabled(Text::new(
            "chats-endpoint-unresolvable",
        ))),
    }
}

fn parse_mg_endpoint(raw: &str) -> Result<String, ConnectError> {
    match url::Url::parse(raw.trim()) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => {
            Ok(url.as_str().trim_end_matches('/').to_owned())
        }
        _ => Err(ConnectError::ChatsNotEnabled(Text::new(
            "chats-unusable-endpoint",
        ))),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(scopes: &[&str], methods: &[&str]) -> Credentials {
        Credentials {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            credentials: methods.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn scopes_decide_when_the_key_has_any() {
        assert!(check_rights(&creds(
            &["integration_read", "integration_write", "order_read"],
            &[]
        ))
        .is_ok());
        // T3: scopes present but insufficient; the method list is ignored.
        let err = check_rights(&creds(&["order_read"], &REQUIRED_CREDENTIALS)).unwrap_err();
        assert!(
            matches!(err, ConnectError::MissingScopes(ref m) if m == &["integration_read", "integration_write"])
        );
        let err = check_rights(&creds(&["integration_read"], &[])).unwrap_err();
        assert!(matches!(err, ConnectError::MissingScopes(ref m) if m == &["integration_write"]));
    }

    #[tokio::test]
    async fn an_mg_endpoint_on_an_internal_address_is_refused() {
        for endpoint in [
            "http://10.0.0.5",
            "https://169.254.169.254",
            "http://[::1]:8080",
        ] {
            let err = check_public_url(&url::Url::parse(endpoint).unwrap())
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("not on the public internet"),
                "{endpoint}: {err}"
            );
        }
    }

    #[test]
    fn old_keys_are_judged_by_their_method_list() {
        // T4: a legacy key with both methods.
        assert!(check_rights(&creds(&[], &REQUIRED_CREDENTIALS)).is_ok());
        assert!(check_rights(&creds(&[], &["/api/integration-modules/{code}"])).is_err());
        assert!(check_rights(&creds(&[], &[])).is_err());
    }
}
