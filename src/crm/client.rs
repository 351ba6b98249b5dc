//! Typed client of the System API calls we make. Every answer is judged by `success` and
//! `errorMsg` first (the status codes the CRM uses are not all documented), except that an
//! HTML or otherwise non-JSON body means "this is not a CRM account" (api-client-go does the
//! same for bodies starting with `<`).

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::guard;
use crate::domain::{ApiKey, CrmUrl};
use crate::http::{client_builder, describe_transport_error, read_bounded, BodyError};

/// Biggest System API answer we read; ours are a few hundred bytes.
const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// No HTTP answer at all: DNS, refused connection, TLS, timeout, or the guard said no.
    #[error("the CRM could not be reached: {0}")]
    Unreachable(String),
    /// An answer that is not the System API's JSON (an nginx page, a redirect, a web site).
    #[error("the address does not answer like a CRM (HTTP {status})")]
    NotACrm { status: u16 },
    /// The API answered `success: false` or an error status.
    #[error("the CRM answered HTTP {status}: {message}")]
    Api {
        status: u16,
        message: String,
        details: Vec<String>,
    },
}

/// `GET /api/credentials`: what the key may do.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Credentials {
    #[serde(default, deserialize_with = "list_or_empty")]
    pub scopes: Vec<String>,
    /// Deprecated list of allowed method paths (keys made before scopes existed).
    #[serde(default, deserialize_with = "list_or_empty")]
    pub credentials: Vec<String>,
}

/// The `integrationModule` object sent to `integration-modules/{code}/edit`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationModule {
    pub code: String,
    pub integration_code: String,
    pub active: bool,
    pub name: String,
    pub logo: String,
    pub client_id: String,
    pub base_url: String,
    pub account_url: String,
    pub actions: ModuleActions,
    pub integrations: ModuleIntegrations,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleActions {
    pub activity: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleIntegrations {
    pub mg_transport: MgTransportConfig,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MgTransportConfig {
    pub webhook_url: String,
}

/// The `notification` object of `notifications/send`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// `superadmins`: the account's administrators.
    pub user_groups: Vec<String>,
    /// `api.error` or `api.info`.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// `info.mgTransport` of the edit answer: where MG is and the transport token.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MgTransportInfo {
    pub endpoint_url: String,
    pub token: String,
}

#[derive(Clone, Debug)]
pub struct CrmClient {
    http: reqwest::Client,
    /// Whether `guard::check_literal` runs on each URL (the resolver covers names only).
    guarded: bool,
}

impl CrmClient {
    /// `guarded`: resolve every host through the SSRF guard (off only when
    /// `crm.allow_private_networks` is on).
    pub fn new(timeout: Duration, guarded: bool) -> anyhow::Result<Self> {
        // Redirects are refused (`client_builder`): one could point anywhere, past the guard.
        let mut builder = client_builder(timeout);
        if guarded {
            builder = builder.dns_resolver(guard::resolver());
        }
        Ok(Self {
            http: builder.build()?,
            guarded,
        })
    }

    #[tracing::instrument(skip(self, key), fields(crm = %crm))]
    pub async fn credentials(&self, crm: &CrmUrl, key: &ApiKey) -> Result<Credentials, CrmError> {
        let request = self.http.get(format!("{crm}/api/credentials"));
        self.call(request, key).await
    }

    /// `GET /api/api-versions`: the API versions the account offers, like `["4.0", "5.0"]`.
    #[tracing::instrument(skip(self, key), fields(crm = %crm))]
    pub async fn api_versions(&self, crm: &CrmUrl, key: &ApiKey) -> Result<Vec<String>, CrmError> {
        #[derive(Deserialize)]
        struct Versions {
            #[serde(default, deserialize_with = "list_or_empty")]
            versions: Vec<String>,
        }
        let request = self.http.get(format!("{crm}/api/api-versions"));
        Ok(self.call::<Versions>(request, key).await?.versions)
    }

    /// `POST /api/v5/integration-modules/{code}/edit` with the module as a JSON string in the
    /// form field `integrationModule`. Returns `info.mgTransport` when the CRM gave one.
    #[tracing::instrument(skip(self, key, module), fields(crm = %crm, code = %module.code))]
    pub async fn edit_integration_module(
        &self,
        crm: &CrmUrl,
        key: &ApiKey,
        module: &IntegrationModule,
    ) -> Result<Option<MgTransportInfo>, CrmError> {
        #[derive(Deserialize)]
        struct EditAnswer {
            #[serde(default)]
            info: Value,
        }
        let json = serde_json::to_string(module).expect("module serializes");
        let request = self
            .http
            .post(format!(
                "{crm}/api/v5/integration-modules/{}/edit",
                urlencode_path(&module.code)
            ))
            .form(&[("integrationModule", json)]);
        let answer: EditAnswer = self.call(request, key).await?;
        // `info` is `[]` (a PHP empty map) when the CRM made no MG part.
        Ok(answer
            .info
            .get("mgTransport")
            .and_then(|v| serde_json::from_value::<MgTransportInfo>(v.clone()).ok()))
    }

    /// `GET /api/v5/integration-modules/{code}`: the module as the CRM has it now. Used to
    /// recover the current MG token after MG refused ours (the integration guide's way).
    #[tracing::instrument(skip(self, key), fields(crm = %crm))]
    pub async fn current_mg_token(
        &self,
        crm: &CrmUrl,
        key: &ApiKey,
        code: &str,
    ) -> Result<Option<String>, CrmError> {
        #[derive(Deserialize)]
        struct ModuleAnswer {
            #[serde(default, rename = "integrationModule")]
            module: Value,
        }
        let request = self.http.get(format!(
            "{crm}/api/v5/integration-modules/{}",
            urlencode_path(code)
        ));
        let answer: ModuleAnswer = self.call(request, key).await?;
        Ok(answer
            .module
            .pointer("/integrations/mgTransport/token")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned))
    }

    /// `GET /api/v5/settings`: the account's `system_language` (`"RU"`, `"en"`, …), if the CRM
    /// says. Read at connect for the language of the account's cards (`protocol/system-api.md`
    /// §4, as RetailCRM's booking module does); the tolerant reading of its shape is
    /// `settings.system_language.value`, or a bare string there.
    #[tracing::instrument(skip(self, key), fields(crm = %crm))]
    pub async fn system_language(
        &self,
        crm: &CrmUrl,
        key: &ApiKey,
    ) -> Result<Option<String>, CrmError> {
        #[derive(Deserialize)]
        struct SettingsAnswer {
            #[serde(default)]
            settings: Value,
        }
        let request = self.http.get(format!("{crm}/api/v5/settings"));
        let answer: SettingsAnswer = self.call(request, key).await?;
        let language = answer.settings.get("system_language");
        Ok(language
            .and_then(|l| l.get("value").or(Some(l)))
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// `POST /api/v5/notifications/send`: a notice in the CRM for its users, here the account's
    /// administrators (`bridge::monitor`). What we rely on (`protocol/system-api.md` §4, end,
    /// from mg-transport-core's health-check notifier): a form field `notification` holding
    /// JSON `{"userGroups":["superadmins"],"type":"api.error","message":"…"}`, answered with
    /// the usual `success`. UNVERIFIED: the key's scope for it (none was found: a refusal is
    /// an `Api` error, retried later like any other), whether `message` may hold HTML (we send
    /// plain text with the link written out), and its length limit (we keep it short).
    #[tracing::instrument(skip_all, fields(crm = %crm))]
    pub async fn send_notification(
        &self,
        crm: &CrmUrl,
        key: &ApiKey,
        notification: &Notification,
    ) -> Result<(), CrmError> {
        #[derive(Deserialize)]
        struct Sent {}
        let json = serde_json::to_string(notification).expect("a notification serializes");
        let request = self
            .http
            .post(format!("{crm}/api/v5/notifications/send"))
            .form(&[("notification", json)]);
        self.call::<Sent>(request, key).await.map(|_| ())
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
        key: &ApiKey,
    ) -> Result<T, CrmError> {
        let request = request
            .header("X-API-KEY", key.expose())
            .header(header::ACCEPT, "application/json")
            .build()
            .map_err(|e| CrmError::Unreachable(describe_transport_error(&e)))?;
        if self.guarded {
            // The stored address can be an IP literal (the activity callback moves it), which
            // reqwest connects to without asking the guarded resolver.
            guard::check_literal(request.url())
                .map_err(|e| CrmError::Unreachable(e.to_string()))?;
        }
        let mut response = self
            .http
            .execute(request)
            .await
            .map_err(|e| CrmError::Unreachable(describe_transport_error(&e)))?;
        let status = response.status();
        let body = read_bounded(&mut response, MAX_BODY)
            .await
            .map_err(|e| match e {
                BodyError::TooBig => CrmError::NotACrm {
                    status: status.as_u16(),
                },
                BodyError::Transport(e) => CrmError::Unreachable(describe_transport_error(&e)),
            })?;
        // A server error is the CRM's, whatever its body (api-client-go does not parse it).
        if status.is_server_error() {
            let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            return Err(api_error(status, &value));
        }
        let value: Value = serde_json::from_slice(&body).map_err(|_| CrmError::NotACrm {
            status: status.as_u16(),
        })?;
        let Some(success) = value.get("success").and_then(Value::as_bool) else {
            return Err(CrmError::NotACrm {
                status: status.as_u16(),
            });
        };
        if !success || !status.is_success() {
            return Err(api_error(status, &value));
        }
        serde_json::from_value(value).map_err(|_| CrmError::NotACrm {
            status: status.as_u16(),
        })
    }
}

fn api_error(status: StatusCode, value: &Value) -> CrmError {
    let message = value
        .get("errorMsg")
        .and_then(Value::as_str)
        .unwrap_or("no error message given")
        .to_owned();
    // `errors` is a map (field -> message) or a list of strings.
    let details = match value.get("errors") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(field, msg)| match msg.as_str() {
                Some(m) => format!("{field}: {m}"),
                None => format!("{field}: {msg}"),
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        _ => Vec::new(),
    };
    CrmError::Api {
        status: status.as_u16(),
        message,
        details,
    }
}

fn urlencode_path(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// Lists arrive as `[...]`, as `null`, or (PHP) as `{}` when empty.
fn list_or_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    })
}
