//! Tokens: the service's own (HS256, pinned) and, when configured, an external
//! identity provider's (RS256 or ES256 with its public key or JWKS). `exp` is required,
//! `iss` and `aud` are checked, and each key only ever verifies its own algorithm, so
//! `alg: none` and algorithm confusion fail.
use std::{fs, time::Duration};

use anyhow::{Context, bail};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode, jwk::JwkSet,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::{ExternalIdpSettings, ExternalKey, JwtSettings},
    error::ApiError,
};

/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    /// `user` or `client`.
    pub typ: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Whom a verified token speaks for, before the database is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSubject {
    User {
        id: Uuid,
        issued_at: i64,
    },
    Client {
        id: Uuid,
        issued_at: i64,
        scopes: Option<Vec<String>>,
    },
    /// A person signed in at the external identity provider, by username.
    External {
        username: String,
    },
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
    external: Option<External>,
}

struct External {
    keys: Vec<(Option<String>, DecodingKey)>,
    validation: Validation,
    username_claim: String,
}

impl Keys {
    pub fn new(secret: &[u8], settings: &JwtSettings, external: Option<&ExternalIdpSettings>) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.ttl,
            external: external.map(External::load).transpose()?,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, typ: &str, sub: Uuid, scope: Option<String>) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: sub.to_string(),
            exp: now + self.ttl.as_secs() as i64,
            nbf: now,
            iat: now,
            jti: Uuid::now_v7().to_string(),
            typ: typ.to_owned(),
            scope,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<TokenSubject, ApiError> {
        let invalid = || ApiError::unauthenticated("invalid_token");
        let header = decode_header(token).map_err(|_| invalid())?;
        if header.alg == Algorithm::HS256 {
            let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| invalid())?;
            let claims = data.claims;
            let id = Uuid::parse_str(&claims.sub).map_err(|_| invalid())?;
            return match claims.typ.as_str() {
                "user" => Ok(TokenSubject::User { id, issued_at: claims.iat }),
                "client" => Ok(TokenSubject::Client {
                    id,
                    issued_at: claims.iat,
                    scopes: claims.scope.map(|s| s.split_whitespace().map(str::to_owned).collect()),
                }),
                _ => Err(invalid()),
            };
        }
        let external = self.external.as_ref().ok_or_else(invalid)?;
        external.verify(token, &header).ok_or_else(invalid)
    }
}

impl External {
    fn load(settings: &ExternalIdpSettings) -> anyhow::Result<Self> {
        let keys = match &settings.key {
            ExternalKey::PublicKeyFile(path) => {
                let pem = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                let key = match settings.algorithm {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                    _ => DecodingKey::from_ec_pem(&pem),
                }
                .with_context(|| format!("{} is not a {:?} public key in PEM", path.display(), settings.algorithm))?;
                vec![(None, key)]
            }
            ExternalKey::JwksFile(path) => {
                let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                let set: JwkSet =
                    serde_json::from_str(&text).with_context(|| format!("{} is not a JWKS", path.display()))?;
                set.keys
                    .iter()
                    .filter_map(|jwk| DecodingKey::from_jwk(jwk).ok().map(|k| (jwk.common.key_id.clone(), k)))
                    .collect()
            }
        };
        if keys.is_empty() {
            bail!("the external identity provider's key file holds no usable key");
        }
        let mut validation = Validation::new(settings.algorithm);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Ok(Self { keys, validation, username_claim: settings.username_claim.clone() })
    }

    fn verify(&self, token: &str, header: &Header) -> Option<TokenSubject> {
        if !self.validation.algorithms.contains(&header.alg) {
            return None;
        }
        // With a `kid`, only the key of that id; without, only a lone key.
        let key = match &header.kid {
            Some(kid) => self.keys.iter().find(|(id, _)| id.as_deref() == Some(kid.as_str()))?,
            None if self.keys.len() == 1 => &self.keys[0],
            None => return None,
        };
        let data = decode::<serde_json::Map<String, serde_json::Value>>(token, &key.1, &self.validation).ok()?;
        let username = data.claims.get(&self.username_claim)?.as_str()?.to_owned();
        Some(TokenSubject::External { username })
    }
}
