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
mod fault_proxy;
mod faults_db;
mod faults_peers;
mod file_memory;
mod helpers;
mod hostile;
mod hostile_http;
mod i18n;
mod inbound;
mod log_secrets;
mod mg_client;
mod outbound;
mod private_postgres;
mod queue;
mod recovery;
mod retention;
mod service;
mod service_process;
mod simple_connection;
mod ssrf;
mod telegram_client;
mod upgrade;
