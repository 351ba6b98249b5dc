//! Received message kinds MG has no type for, read only as far as a readable note needs them
//! (`inbound::text`). Lenient like the rest of `received`: an odd sub-field is dropped, never
//! the update.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_with::serde_as;

use super::lenient::Lenient;
use super::received::{Chat, User};

/// Where a forwarded message came from (`MessageOrigin`); one struct for the four kinds, so a
/// kind newer than this code still parses.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageOrigin {
    /// `user`, `hidden_user`, `chat` or `channel`.
    #[serde(rename = "type", default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub kind: String,
    /// `user`.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub sender_user: Option<User>,
    /// `hidden_user`.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub sender_user_name: Option<String>,
    /// `chat`.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub sender_chat: Option<Chat>,
    /// `channel`.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub chat: Option<Chat>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub author_signature: Option<String>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dice {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub emoji: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub value: i64,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Story {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub chat: Option<Chat>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub id: i64,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub title: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub tasks: Vec<ChecklistTask>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistTask {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub text: String,
    /// Unix time the task was done; absent or 0 while open.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub completion_date: i64,
}

/// Photos or videos behind a Stars payment; the files cannot be fetched before paying.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidMediaInfo {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub star_count: u64,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Giveaway {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub winner_count: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub prize_description: Option<String>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiveawayWinners {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub winner_count: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub winners: Vec<User>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub prize_description: Option<String>,
}

/// What a Web App sent through `Telegram.WebApp.sendData`.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAppData {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub data: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub button_text: String,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Game {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub title: String,
}

/// An invoice, or a payment made (`successful_payment`, `refunded_payment`): amounts are in
/// the currency's smallest unit.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub title: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub currency: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub total_amount: i64,
}

/// A field whose presence is all we read (service messages we only name); it takes any value
/// and is stored as `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Present;

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Present)
    }
}

impl Serialize for Present {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}
