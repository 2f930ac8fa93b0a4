//! Signed JSON Web Tokens (RFC 7519, compact form) for provider auth: ES256 for APNs
//! provider tokens, RS256 for Google's OAuth2 JWT assertion. Keys come from PKCS#8 PEM;
//! a malformed key is a [`ConfigError`] that says what was expected. Signing never reads a
//! clock: the caller passes the claims.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use serde::Serialize;

use crate::error::ConfigError;

/// A P-256 private key for ES256 (an APNs `.p8` auth key).
#[derive(Clone)]
pub struct Es256Key(p256::ecdsa::SigningKey);

impl Es256Key {
    /// Reads a PKCS#8 PEM P-256 key (the `.p8` file Apple issues). Text around the PEM block
    /// and CRLF line ends are accepted.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, ConfigError> {
        let block = pkcs8_block(pem).map_err(ConfigError::ApnsKey)?;
        p256::ecdsa::SigningKey::from_pkcs8_pem(&block)
            .map(Es256Key)
            .map_err(|err| {
                ConfigError::ApnsKey(format!(
                    "the PEM block is not a PKCS#8 P-256 (ES256) private key ({err})"
                ))
            })
    }

    /// Signs `message`: the 64-byte `r || s` form JWS requires.
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::Signature = self.0.sign(message);
        signature.to_bytes().to_vec()
    }
}

impl fmt::Debug for Es256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Es256Key(<redacted>)")
    }
}

/// An RSA private key for RS256 (a Google service account's `private_key`).
#[derive(Clone)]
pub struct Rs256Key(rsa::pkcs1v15::SigningKey<sha2::Sha256>);

impl Rs256Key {
    /// Reads a PKCS#8 PEM RSA key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, ConfigError> {
        let block = pkcs8_block(pem)
            .map_err(|problem| ConfigError::ServiceAccount(format!("`private_key`: {problem}")))?;
        rsa::PrivateKey::from_pkcs8_pem(&block)
            .map(|key| Rs256Key(rsa::pkcs1v15::SigningKey::new(key)))
            .map_err(|err| {
                ConfigError::ServiceAccount(format!(
                    "`private_key` is not a PKCS#8 RSA private key ({err})"
                ))
            })
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 / SHA-256 (the `getrandom` feature of `rsa`
    /// blinds the private-key operation with OS randomness; the signature is deterministic).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        self.0
            .try_sign(message)
            .map(|signature| signature.to_vec())
            .map_err(|err| format!("RSA signing failed: {err}"))
    }
}

impl fmt::Debug for Rs256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rs256Key(<redacted>)")
    }
}

/// Finds the `PRIVATE KEY` PEM block in `text` and returns it with LF line ends, or says
/// what was found instead.
fn pkcs8_block(text: &str) -> Result<String, String> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let normalized = text.replace("\r\n", "\n").replace("\\n", "\n");
    if let (Some(start), Some(end)) = (normalized.find(BEGIN), normalized.find(END))
        && start < end
    {
        let block = &normalized[start..end + END.len()];
        let body: String = block[BEGIN.len()..block.len() - END.len()]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("");
        // Re-wrap at 64 columns: the strict PEM reader wants canonical lines.
        let mut out = String::from(BEGIN);
        out.push('\n');
        for chunk in body.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str(END);
        out.push('\n');
        return Ok(out);
    }
    for (label, hint) in [
        (
            "EC PRIVATE KEY",
            "a SEC1 EC key; convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem`",
        ),
        (
            "RSA PRIVATE KEY",
            "a PKCS#1 RSA key; convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem`",
        ),
        (
            "ENCRYPTED PRIVATE KEY",
            "an encrypted key; give the unencrypted PKCS#8 key",
        ),
        ("PUBLIC KEY", "a public key; the private key is needed"),
    ] {
        if normalized.contains(&format!("-----BEGIN {label}-----")) {
            return Err(format!("expected `{BEGIN}` but found {hint}"));
        }
    }
    Err(format!("no `{BEGIN}` … `{END}` block found"))
}

/// Which key signs a token.
pub(crate) enum SigningKey<'a> {
    Es256(&'a Es256Key),
    Rs256(&'a Rs256Key),
}

/// `base64url(header).base64url(claims).base64url(signature)`.
pub(crate) fn encode(
    header: &impl Serialize,
    claims: &impl Serialize,
    key: SigningKey<'_>,
) -> Result<String, String> {
    let header = serde_json::to_vec(header).map_err(|err| err.to_string())?;
    let claims = serde_json::to_vec(claims).map_err(|err| err.to_string())?;
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims));
    let signature = match key {
        SigningKey::Es256(key) => key.sign(token.as_bytes()),
        SigningKey::Rs256(key) => key.sign(token.as_bytes())?,
    };
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}
