//! One integration-test binary: the real service, real databases, fakes of the outside APIs
//! on loopback.

mod activity;
mod bridge;
mod browser;
mod channels;
mod connect;
mod conversation;
mod crash;
mod database;
mod fairness;
mod fake_crm;
mod fake_mg;
mod fake_telegram;
mod helpers;
mod hostile_http;
mod inbound;
mod mg_client;
mod outbound;
mod queue;
mod service;
mod service_process;
mod ssrf;
mod telegram_client;
