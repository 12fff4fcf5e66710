//! Signed customer tokens, made by the store's backend for shoppers signed in on the storefront:
//! `base64url(json{customer_id, email, exp, kid}) + "." + base64url(HMAC-SHA256(secret, payload))`,
//! where `payload` is the base64url text before the dot. Several keys (by `kid`) allow rotation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerClaims {
    pub customer_id: String,
    pub email: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    pub kid: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's key id is unknown")]
    UnknownKey,
    #[error("the token's signature is wrong")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

/// The store's signing keys, by key id. The first key signs new tokens.
#[derive(Clone, Default)]
pub struct IdentityKeys {
    keys: Vec<(String, Secret)>,
}

impl std::fmt::Debug for IdentityKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "IdentityKeys({ids:?})")
    }
}

impl IdentityKeys {
    /// Parses `kid:secret,kid:secret`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kid, secret) =
                part.split_once(':').ok_or_else(|| format!("identity key {:?} is not kid:secret", kid_only(part)))?;
            if kid.is_empty() || secret.len() < 16 {
                return Err(format!("identity key {kid:?}: the secret must be at least 16 characters"));
            }
            if keys.iter().any(|(k, _): &(String, Secret)| k == kid) {
                return Err(format!("identity key {kid:?} appears twice"));
            }
            keys.push((kid.to_string(), Secret::new(secret)));
        }
        Ok(Self { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn contains_secret(&self, secret: &str) -> bool {
        self.keys.iter().any(|(_, s)| s.expose() == secret)
    }

    /// Signs claims with the key their `kid` names.
    pub fn sign(&self, claims: &CustomerClaims) -> Result<String, TokenError> {
        let secret = self.secret(&claims.kid).ok_or(TokenError::UnknownKey)?;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| TokenError::Malformed)?);
        let signature = URL_SAFE_NO_PAD.encode(mac(secret, payload.as_bytes()).finalize().into_bytes());
        Ok(format!("{payload}.{signature}"))
    }

    /// The first (current) key id.
    pub fn current_kid(&self) -> Option<&str> {
        self.keys.first().map(|(k, _)| k.as_str())
    }

    /// Checks a token: structure, key, signature (constant time), expiry.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<CustomerClaims, TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let claims: CustomerClaims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        let secret = self.secret(&claims.kid).ok_or(TokenError::UnknownKey)?;
        mac(secret, payload.as_bytes()).verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
        if claims.exp <= now_secs {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn secret(&self, kid: &str) -> Option<&Secret> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, s)| s)
    }
}

fn kid_only(part: &str) -> &str {
    part.split(':').next().unwrap_or("")
}

fn mac(secret: &Secret, data: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC accepts any key length");
    mac.update(data);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> IdentityKeys {
        IdentityKeys::parse("k2:second-secret-0123456789,k1:first-secret-0123456789").unwrap()
    }

    fn claims(kid: &str, exp: i64) -> CustomerClaims {
        CustomerClaims { customer_id: "c1".into(), email: "a@b.co".into(), exp, kid: kid.into() }
    }

    #[test]
    fn a_signed_token_verifies_with_either_key() {
        for kid in ["k1", "k2"] {
            let token = keys().sign(&claims(kid, 2000)).unwrap();
            assert_eq!(keys().verify(&token, 1000).unwrap().kid, kid);
        }
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = keys().sign(&claims("k1", 1000)).unwrap();
        assert_eq!(keys().verify(&token, 1000), Err(TokenError::Expired));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let token = keys().sign(&claims("k1", 2000)).unwrap();
        let (_, sig) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&CustomerClaims { customer_id: "c2".into(), ..claims("k1", 2000) }).unwrap());
        assert_eq!(keys().verify(&format!("{forged}.{sig}"), 1000), Err(TokenError::BadSignature));
        assert_eq!(keys().verify("garbage", 1000), Err(TokenError::Malformed));
    }

    #[test]
    fn a_token_from_a_retired_key_is_refused() {
        let token = keys().sign(&claims("k1", 2000)).unwrap();
        let rotated = IdentityKeys::parse("k2:second-secret-0123456789").unwrap();
        assert_eq!(rotated.verify(&token, 1000), Err(TokenError::UnknownKey));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(IdentityKeys::parse("k1:short").is_err());
    }
}
