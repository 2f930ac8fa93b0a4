//! Configuration errors: what is wrong with a key, a service account or an endpoint, said so
//! that the person setting up push can fix it. Delivery problems are never errors here: they
//! are [`crate::Delivery`] outcomes the dispatcher acts on.

/// A provider could not be set up from the configuration it was given.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The APNs signing key (`.p8`) could not be read as a P-256 private key.
    #[error("the APNs signing key is not usable: {0}")]
    ApnsKey(String),
    /// The FCM service-account JSON is malformed or lacks a field.
    #[error("the FCM service-account JSON is not usable: {0}")]
    ServiceAccount(String),
    /// A required setting is empty or holds characters it cannot hold.
    #[error("{setting} {problem}")]
    Setting {
        /// Which setting, e.g. "the APNs team id".
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// An endpoint is not an http(s) URL.
    #[error("{what} endpoint `{url}` is not an http:// or https:// URL")]
    Endpoint {
        /// Which endpoint, e.g. "the APNs".
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// The HTTP client could not be built (TLS roots, resolver).
    #[error("could not set up the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// Checks a setting that goes into a header or a URL: non-empty, printable ASCII, no spaces.
pub(crate) fn check_token_setting(setting: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::Setting {
            setting,
            problem: "is empty".to_owned(),
        });
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::Setting {
            setting,
            problem: format!("`{value}` may only hold visible ASCII characters (no spaces)"),
        });
    }
    Ok(())
}

/// Checks that an endpoint is an http(s) URL and returns it without a trailing slash.
pub(crate) fn check_endpoint(what: &'static str, url: &str) -> Result<String, ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| ConfigError::Endpoint {
        what,
        url: url.to_owned(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::Endpoint {
            what,
            url: url.to_owned(),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}
