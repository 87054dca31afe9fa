//! cchc-outreach: administrative-reform communication plans, their evidence and
//! citizen feedback, served as a JSON API with an OpenAPI contract.

pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod i18n;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod pgserver;
pub mod reports;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
