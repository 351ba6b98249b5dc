//! One integration-test binary: the real service, real databases, fakes of the outside APIs
//! on loopback.

mod activity;
mod browser;
mod channels;
mod connect;
mod fake_crm;
mod fake_mg;
mod fake_telegram;
mod helpers;
mod mg_client;
mod service;
mod ssrf;
mod telegram_client;
