//! Templates (`protocol/transport-api.md` §4.1).

use serde::{Deserialize, Deserializer, Serialize};

use super::{lenient, MgChannelId, MgTemplateId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateType {
    Text,
    Media,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateVerificationStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateQuality {
    Pending,
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateRejectionReason {
    AbusiveContent,
    IncorrectCategory,
    InvalidFormat,
    Scam,
}

/// One chunk of a template body. On the wire (the form MG's first client has used for
/// years, §4.1): a string is literal text, `{}` a positional variable, `{"var": "first_name"}`
/// a named one. The OpenAPI document's object form (`{"text", "var": 0..3}`) is a code
/// generation artefact and is not sent; both forms are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateItem {
    Text(String),
    /// A positional variable, filled from the operator's arguments.
    Custom,
    Name,
    FirstName,
    LastName,
}

impl Serialize for TemplateItem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let var = match self {
            Self::Text(text) => return serializer.serialize_str(text),
            Self::Custom => None,
            Self::Name => Some("name"),
            Self::FirstName => Some("first_name"),
            Self::LastName => Some("last_name"),
        };
        let mut map = serializer.serialize_map(Some(usize::from(var.is_some())))?;
        if let Some(var) = var {
            map.serialize_entry("var", var)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TemplateItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        let value = Value::deserialize(deserializer)?;
        let var_item = |var: &Value| match var {
            Value::String(name) => match name.as_str() {
                "name" => Some(Self::Name),
                "first_name" => Some(Self::FirstName),
                "last_name" => Some(Self::LastName),
                _ => None,
            },
            Value::Number(n) => match n.as_u64() {
                Some(0) => Some(Self::Custom),
                Some(1) => Some(Self::Name),
                Some(2) => Some(Self::FirstName),
                Some(3) => Some(Self::LastName),
                _ => None,
            },
            _ => None,
        };
        match &value {
            Value::String(text) => Ok(Self::Text(text.clone())),
            Value::Object(map) => match (map.get("text"), map.get("var"), map.get("type")) {
                // The generated form: type 1 = text, 2 = variable.
                (Some(Value::String(text)), _, Some(t)) if t == 1 => Ok(Self::Text(text.clone())),
                (_, Some(var), _) => var_item(var)
                    .ok_or_else(|| serde::de::Error::custom("unknown template variable")),
                (Some(Value::String(text)), None, None) => Ok(Self::Text(text.clone())),
                _ => Ok(Self::Custom),
            },
            _ => Err(serde::de::Error::custom(
                "a template item is a string or an object",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateHeaderType {
    Text,
    Document,
    Image,
    Video,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateHeader {
    pub content: TemplateHeaderContent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateHeaderContent {
    #[serde(rename = "type")]
    pub r#type: TemplateHeaderType,
    /// Only for `text` headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateButtons {
    #[serde(default)]
    pub items: Vec<TemplateButton>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateButtonType {
    Plain,
    Phone,
    Url,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateButton {
    #[serde(rename = "type")]
    pub r#type: TemplateButtonType,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Example values shown while a template is reviewed (answers only: the OpenAPI document's
/// request bodies have no `example`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateExample {
    #[serde(default)]
    pub body: Vec<String>,
    #[serde(default)]
    pub header: Vec<String>,
    #[serde(default)]
    pub buttons: Vec<Vec<String>>,
}

/// One template of `GET /templates`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Template {
    #[serde(default)]
    pub id: Option<MgTemplateId>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub channel_id: Option<MgChannelId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub r#type: Option<TemplateType>,
    #[serde(default, deserialize_with = "lenient")]
    pub template: Option<Vec<TemplateItem>>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub example: Option<TemplateExample>,
    #[serde(default, deserialize_with = "lenient")]
    pub verification_status: Option<TemplateVerificationStatus>,
    #[serde(default, deserialize_with = "lenient")]
    pub quality: Option<TemplateQuality>,
    #[serde(default, deserialize_with = "lenient")]
    pub rejection_reason: Option<TemplateRejectionReason>,
    #[serde(default, deserialize_with = "lenient")]
    pub header: Option<TemplateHeader>,
    #[serde(default)]
    pub footer: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub buttons: Option<TemplateButtons>,
}

/// `POST /channels/{id}/templates`: syncs a template the messenger's provider approved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivateTemplateRequest {
    /// Unique code, 1..=512 characters (e.g. `namespace#name#lang`).
    pub code: String,
    #[serde(rename = "type")]
    pub r#type: TemplateType,
    pub name: String,
    #[serde(flatten)]
    pub fields: TemplateFields,
}

/// `PUT /channels/{id}/templates/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateTemplateRequest {
    pub name: String,
    #[serde(flatten)]
    pub fields: TemplateFields,
}

/// The optional template fields activation and update share.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TemplateFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Vec<TemplateItem>>,
    /// The body with WhatsApp-style `{{1}}` placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// `utility`, `marketing` or `authentication`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<TemplateVerificationStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<TemplateQuality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<TemplateRejectionReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<TemplateHeader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buttons: Option<TemplateButtons>,
}
