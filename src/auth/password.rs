//! Argon2id password and client-secret hashing, and random secrets.
use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

/// Constant-time comparison inside argon2; a malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Keys a sender's normalised phone and e-mail (HMAC-SHA256, bound to the organisation),
/// so that records of one sender are found without the contact leaving the protected
/// sender table, and without the key — never in the database — nothing can be tried
/// against the stored keys.
#[derive(Clone)]
pub struct SenderKey(Vec<u8>);

impl SenderKey {
    pub fn derive(secret: &[u8]) -> Self {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(b"cchc-outreach sender key");
        Self(mac.finalize().into_bytes().to_vec())
    }

    /// The keys of a sender's phone and e-mail (those that normalise).
    pub fn keys(&self, org: uuid::Uuid, phone: Option<&str>, email: Option<&str>) -> Vec<Vec<u8>> {
        use hmac::Mac;
        let normal = [
            phone.and_then(crate::domain::feedback::normal_phone).map(|p| format!("phone:{p}")),
            email.and_then(crate::domain::feedback::normal_email).map(|e| format!("email:{e}")),
        ];
        normal
            .into_iter()
            .flatten()
            .map(|text| {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("any key length");
                mac.update(org.as_bytes());
                mac.update(text.as_bytes());
                mac.finalize().into_bytes().to_vec()
            })
            .collect()
    }
}

/// The key tracking PINs are kept under: derived from the token-signing secret, which
/// every instance shares and the database does not hold.
#[derive(Clone)]
pub struct PinKey(Vec<u8>);

impl PinKey {
    pub fn derive(secret: &[u8]) -> Self {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(b"cchc-outreach tracking pin key");
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self, record: uuid::Uuid, pin: &str) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(record.as_bytes());
        mac.update(pin.as_bytes());
        mac
    }

    /// What is stored of a record's PIN: HMAC-SHA256 under the key, bound to the record,
    /// in hex. (A keyed hash rather than Argon2: a filing must stay fast, and without the
    /// key the hashes in a stolen database cannot be tried offline; online tries lock.)
    pub fn digest(&self, record: uuid::Uuid, pin: &str) -> String {
        use hmac::Mac;
        self.mac(record, pin).finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `pin` is the record's, in constant time.
    pub fn matches(&self, record: uuid::Uuid, pin: &str, stored: &str) -> bool {
        use hmac::Mac;
        let Some(bytes) = (0..stored.len() / 2)
            .map(|i| u8::from_str_radix(stored.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        self.mac(record, pin).verify_slice(&bytes).is_ok()
    }
}

/// A new tracking PIN: 8 random digits.
pub fn new_pin() -> String {
    use rand::Rng;
    format!("{:08}", OsRng.gen_range(0..100_000_000u32))
}

/// `bytes` random bytes from the OS, URL-safe base64 without padding.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_only_their_password() {
        let h = super::hash("correct horse battery");
        assert!(super::verify("correct horse battery", &h));
        assert!(!super::verify("wrong", &h));
        assert!(!super::verify("x", "not a hash"));
        assert_ne!(super::random_secret(32), super::random_secret(32));
        let (key, record) = (super::PinKey::derive(b"a secret of at least thirty-two bytes"), uuid::Uuid::now_v7());
        let pin = super::new_pin();
        let stored = key.digest(record, &pin);
        assert!(pin.len() == 8 && key.matches(record, &pin, &stored));
        assert!(!key.matches(uuid::Uuid::now_v7(), &pin, &stored), "bound to its record");
        assert!(!key.matches(record, "12345678", &stored) || pin == "12345678");
        assert!(!key.matches(record, &pin, "zz") && !key.matches(record, &pin, ""));
    }
}
