//! The domain: what the service does with the outside APIs and the store. For now, connecting
//! a CRM account; message mapping and delivery workers come with the bridge itself.

pub mod connect;
