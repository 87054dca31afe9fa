mod auth;
mod conventions;
mod directory;
mod helpers;
mod idempotency;
mod openapi;
mod private_server;
