//! Identity and access: token issuing and checking, passwords, the `AuthUser`
//! extractor and the one role/scope matrix.

pub mod accounts;
pub mod jwt;
pub mod password;
pub mod permissions;
pub mod principal;

pub use permissions::{Permission, Role, Scope};
pub use principal::{AuthUser, Principal, PrincipalKind};
