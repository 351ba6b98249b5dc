//! The CRM's System API v5: the calls a transport module makes while connecting
//! (`protocol/system-api.md` §2–4), behind the SSRF guard.

pub mod address;
mod client;
pub mod guard;

pub use client::Notification;
pub use client::{Credentials, CrmClient, CrmError, IntegrationModule, MgTransportInfo};
pub use client::{MgTransportConfig, ModuleActions, ModuleIntegrations};
