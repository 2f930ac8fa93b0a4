//! Secrets: device tokens, enrollment codes and the admin token — how they are made (OS
//! randomness only), normalised, hashed for storage and compared. Never logs or stores a
//! secret in the clear (the admin-token file excepted, which is the point of it).

use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;

/// Prefix of every device token.
pub const DEVICE_TOKEN_PREFIX: &str = "pl_";
/// Crockford's base32 alphabet: no I, L, O or U, so codes read aloud survive.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of an enrollment code (60 bits).
pub const CODE_LENGTH: usize = 12;

/// The operating system gave no randomness (nothing secret can be made without it).
#[derive(Debug, Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct NoRandomness(getrandom::Error);

fn random<const N: usize>() -> Result<[u8; N], NoRandomness> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(NoRandomness)?;
    Ok(bytes)
}

/// A random (version 4) UUID, for device ids.
pub fn random_uuid() -> Result<Uuid, NoRandomness> {
    Ok(uuid::Builder::from_random_bytes(random::<16>()?).into_uuid())
}

/// A new device token: `pl_` and 32 random bytes in hex (256 bits).
pub fn new_device_token() -> Result<String, NoRandomness> {
    Ok(format!(
        "{DEVICE_TOKEN_PREFIX}{}",
        hex::encode(random::<32>()?)
    ))
}

/// A new admin token: 32 random bytes in hex.
pub fn new_admin_token() -> Result<String, NoRandomness> {
    Ok(hex::encode(random::<32>()?))
}

/// A new enrollment code, printed `XXXX-XXXX-XXXX` in Crockford base32.
pub fn new_enrollment_code() -> Result<String, NoRandomness> {
    let bytes = random::<8>()?;
    let mut bits = u64::from_le_bytes(bytes);
    let mut chars = Vec::with_capacity(CODE_LENGTH);
    for _ in 0..CODE_LENGTH {
        chars.push(CROCKFORD[(bits & 31) as usize]);
        bits >>= 5;
    }
    let text: String = chars.into_iter().map(char::from).collect();
    Ok(format!("{}-{}-{}", &text[0..4], &text[4..8], &text[8..12]))
}

/// A code as typed, normalised for hashing: case, dashes and spaces do not matter, and
/// the letters Crockford reads as digits (O → 0, I and L → 1) are read so. `None` when it
/// cannot be a code at all.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LENGTH);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LENGTH).then_some(out)
}

/// SHA-256 of a secret, lowercase hex: what is stored in place of the secret.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether two secrets are equal, in time independent of where they differ (both are
/// hashed first, so their lengths leak nothing either).
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_twelve_crockford_characters_in_three_groups() {
        let code = new_enrollment_code().expect("randomness");
        assert_eq!(code.len(), 14);
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 3);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert_eq!(normalize_code(&code).map(|c| c.len()), Some(CODE_LENGTH));
    }

    #[test]
    fn a_code_reads_the_same_however_it_is_typed() {
        let canonical = normalize_code("7KQ2-M9XD-4FH0").expect("code");
        assert_eq!(
            normalize_code("7kq2 m9xd 4fho").as_deref(),
            Some(canonical.as_str())
        );
        assert_eq!(
            normalize_code("7KQ2M9XD4FH0").as_deref(),
            Some(canonical.as_str())
        );
        assert_eq!(normalize_code("7KQ2-M9XD-4FH"), None, "too short");
        assert_eq!(normalize_code("7KQ2-M9XD-4FHU"), None, "U is not Crockford");
        assert_eq!(normalize_code("7KQ2-M9XD-4FHé"), None);
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = new_device_token().expect("randomness");
        let b = new_device_token().expect("randomness");
        assert!(a.starts_with("pl_") && a.len() == 3 + 64);
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "abcd"));
    }

    #[test]
    fn only_bearer_credentials_count() {
        assert_eq!(bearer("Bearer pl_x"), Some("pl_x"));
        assert_eq!(bearer("bearer  pl_x "), Some("pl_x"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
