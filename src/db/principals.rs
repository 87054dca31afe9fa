//! Turns a verified token into the caller, as the database knows them now.
use diesel::prelude::*;

use crate::{
    auth::{Principal, PrincipalKind, Scope, jwt::TokenSubject},
    db::{service_clients, users},
    error::ApiError,
};

/// `None` when the account is gone or inactive, or the token predates the account's
/// last password change or secret rotation. (An organisation cannot be deleted while
/// it has live accounts, so a live account's organisation is live.)
pub fn load(conn: &mut PgConnection, subject: &TokenSubject) -> Result<Option<Principal>, ApiError> {
    let user = match subject {
        TokenSubject::User { id, issued_at } => {
            users::find(conn, *id, None).optional()?.filter(|u| *issued_at >= u.password_changed_at.timestamp())
        }
        TokenSubject::External { username } => users::by_username(conn, username)?,
        TokenSubject::Client { id, issued_at, scopes } => {
            let Some(client) = service_clients::find(conn, *id, None).optional()? else {
                return Ok(None);
            };
            if !client.active || *issued_at < client.secret_rotated_at.timestamp() {
                return Ok(None);
            }
            // The token may carry fewer scopes than the client has; never more than it has now.
            let granted: Vec<Scope> = client
                .scopes
                .iter()
                .flatten()
                .filter(|s| scopes.as_ref().is_none_or(|asked| asked.contains(s)))
                .filter_map(|s| Scope::parse(s))
                .collect();
            return Ok(Some(Principal {
                id: client.id,
                name: client.name,
                organization_id: Some(client.organization_id),
                kind: PrincipalKind::Client { scopes: granted },
            }));
        }
    };
    let Some(user) = user.filter(|u| u.active) else {
        return Ok(None);
    };
    Ok(Some(Principal {
        id: user.id,
        name: user.username,
        organization_id: user.organization_id,
        kind: PrincipalKind::User { role: user.role, department_id: user.department_id },
    }))
}
