mod auth;
mod conventions;
mod directory;
mod helpers;
mod idempotency;
mod openapi;
mod plans;
mod private_server;
