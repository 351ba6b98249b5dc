//! One integration-test binary: the real service, real databases, fakes of the outside APIs
//! on loopback.

mod activity;
mod browser;
mod connect;
mod fake_crm;
mod helpers;
mod service;
mod ssrf;
