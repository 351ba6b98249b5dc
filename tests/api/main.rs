//! One integration-test binary: the real service, real databases, fakes of the outside APIs
//! on loopback.

// The fakes, the test database and the service process live in testkit/ (shared with the
// benchmarks); named here so the tests reach them as `crate::fake_mg` and the like.
use mgbridge_testkit::{database, fake_crm, fake_max, fake_mg, fake_telegram, service_process};

mod activity;
mod blocked;
mod bridge;
mod browser;
mod business;
mod channels;
mod connect;
mod conversation;
mod crash;
mod crash_max;
mod failed;
mod fairness;
mod fault_proxy;
mod faults_db;
mod faults_peers;
mod file_memory;
mod health;
mod helpers;
mod hostile;
mod hostile_http;
mod i18n;
mod inbound;
mod log_secrets;
mod max;
mod mg_client;
mod outbound;
mod private_postgres;
mod proxy;
mod queue;
mod recovery;
mod retention;
mod service;
mod simple_connection;
mod ssrf;
mod telegram_client;
mod telegram_kinds;
mod telegram_markup;
mod upgrade;
