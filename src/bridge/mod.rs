//! The domain: what the service does with the outside APIs and the store. Connecting a CRM
//! account, and its Telegram bots as MessageGateway channels; message mapping and delivery
//! workers come with the bridge itself.

pub mod channel_settings;
pub mod channels;
pub mod connect;
pub mod mg_access;
