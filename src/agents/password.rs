//! Agent passwords: argon2id hashes; 8 to 128 characters, no composition rules, common
//! passwords refused.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A small list of the most common passwords (and the product's own name).
const COMMON: [&str; 40] = [
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "11111111",
    "00000000",
    "abc12345",
    "abcd1234",
    "passw0rd",
    "p@ssw0rd",
    "letmein1",
    "welcome1",
    "welcome123",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "trustno1",
    "1q2w3e4r",
    "zaq12wsx",
    "qwertyui",
    "asdfghjk",
    "monkey123",
    "dragon123",
    "master123",
    "changeme",
    "changeme123",
    "admin123",
    "administrator",
    "switchboard",
    "switchboard1",
    "support123",
    "customer",
    "helpdesk",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must be at least 8 characters")]
    TooShort,
    #[error("the password must be at most 128 characters")]
    TooLong,
    #[error("this password is too common; choose another")]
    Common,
    #[error("the password could not be hashed")]
    Hash,
}

pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < 8 {
        return Err(PasswordError::TooShort);
    }
    if n > 128 {
        return Err(PasswordError::TooLong);
    }
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Checks the policy, then hashes with argon2id and a random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_policy(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| PasswordError::Hash)
}

/// Verifies a password against a stored hash; `None` runs against a dummy hash so an unknown
/// account costs the same time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash("dummy-password-for-timing").unwrap_or_default());
    let known = stored.is_some();
    let target = stored.unwrap_or(DUMMY.as_str());
    let ok = PasswordHash::new(target)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false);
    ok && known
}

/// A random password for `agent add` when none is given: 20 characters from an unambiguous set.
pub fn generate() -> String {
    use rand::Rng;
    const SET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| SET[rng.random_range(0..SET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_limits_length_and_refuses_common_passwords() {
        assert_eq!(check_policy("short"), Err(PasswordError::TooShort));
        assert_eq!(check_policy(&"x".repeat(129)), Err(PasswordError::TooLong));
        assert_eq!(check_policy("Password1"), Err(PasswordError::Common));
        assert_eq!(check_policy("correct horse battery"), Ok(()));
    }

    #[test]
    fn hash_verifies_the_right_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("correct horse battery", None));
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        assert_eq!(check_policy(&generate()), Ok(()));
    }
}
