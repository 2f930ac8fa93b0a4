//! A blocking client for the server's admin API (`/v1/admin/…`, see `docs/sync.md`), for
//! the `proofline admin` commands and for tests: org, sites, people, routines import,
//! enrollment codes, devices. Same timeouts, retries and typed errors as the device's
//! [`SyncClient`]; requests that create something are retried only when they could not be
//! sent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{DeviceId, Person, PersonId, Role, RoutineId, Site, SiteId};
use crate::sync::client::{ClientOptions, SyncClient, SyncError};

/// The org as the server defines it (`GET /v1/admin/org`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminOrg {
    /// The org's name.
    #[serde(default)]
    pub name: String,
    /// Its sites.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Its people.
    #[serde(default)]
    pub people: Vec<Person>,
    /// Its routines, current versions.
    #[serde(default)]
    pub routines: Vec<RoutineSummary>,
}

/// A routine in the org listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutineSummary {
    /// Id.
    pub id: RoutineId,
    /// Key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Its site.
    pub site: SiteId,
    /// Current version.
    pub version: u32,
}

/// `POST /v1/admin/sites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSite {
    /// Short stable key (`harbor`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
}

/// `POST /v1/admin/people`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    /// Short stable key (`maria`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Role per site (site key or id → role).
    pub roles: BTreeMap<String, Role>,
}

/// `POST /v1/admin/enrollment-codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRequest {
    /// The person (key or id).
    pub person: String,
    /// Minutes the code stays valid (server default: 4320, 72 h).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_minutes: Option<u32>,
    /// Or the instant it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A one-time enrollment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentCode {
    /// The code, `XXXX-XXXX-XXXX`.
    pub code: String,
    /// The person it enrolls.
    pub person: PersonId,
    /// Their name.
    #[serde(default)]
    pub person_name: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// An enrolled device (`GET /v1/admin/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The device.
    pub device: DeviceId,
    /// Its person.
    pub person: PersonId,
    /// Their name.
    #[serde(default)]
    pub person_name: String,
    /// The device's name, if given on enrolling.
    #[serde(default)]
    pub name: Option<String>,
    /// `ios`, `android`, `cli`.
    #[serde(default)]
    pub platform: Option<String>,
    /// When it enrolled.
    pub created_at: DateTime<Utc>,
    /// When it last talked to the server.
    #[serde(default)]
    pub last_seen: Option<DateTime<Utc>>,
    /// Its last reported clock offset (server − device, ms).
    #[serde(default)]
    pub clock_offset_ms: Option<i64>,
    /// Whether its token was revoked.
    #[serde(default)]
    pub revoked: bool,
}

/// The admin API of one server.
#[derive(Debug, Clone)]
pub struct AdminClient {
    client: SyncClient,
}

impl AdminClient {
    /// A client for the server at `base_url` with the admin token.
    pub fn new(
        base_url: &str,
        admin_token: &str,
        options: ClientOptions,
    ) -> Result<AdminClient, SyncError> {
        Ok(AdminClient {
            client: SyncClient::new(base_url, Some(admin_token), options)?,
        })
    }

    /// The server's base URL, normalised.
    pub fn base_url(&self) -> &str {
        self.client.base_url()
    }

    /// The org: sites, people, routines.
    pub fn org(&self) -> Result<AdminOrg, SyncError> {
        self.client.get_json("reading the org", "/v1/admin/org")
    }

    /// Adds a site.
    pub fn add_site(&self, site: &NewSite) -> Result<Site, SyncError> {
        self.client
            .post_json("adding the site", "/v1/admin/sites", site)
    }

    /// Adds a person with their roles.
    pub fn add_person(&self, person: &NewPerson) -> Result<Person, SyncError> {
        self.client
            .post_json("adding the person", "/v1/admin/people", person)
    }

    /// Imports a routines file (TOML text, the CLI's format). The answer counts what was
    /// written (`{sites, people, routines, absences, events_written}`), kept as JSON.
    pub fn import(&self, toml: &str) -> Result<serde_json::Value, SyncError> {
        self.client.post_raw(
            "importing the routines file",
            "/v1/admin/import",
            "application/toml",
            toml.as_bytes(),
        )
    }

    /// Issues a one-time enrollment code for a person.
    pub fn enrollment_code(&self, request: &CodeRequest) -> Result<EnrollmentCode, SyncError> {
        self.client.post_json(
            "issuing an enrollment code",
            "/v1/admin/enrollment-codes",
            request,
        )
    }

    /// Every enrolled device.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, SyncError> {
        self.client
            .get_json("listing the devices", "/v1/admin/devices")
    }

    /// Revokes a device's token.
    pub fn revoke_device(&self, device: DeviceId) -> Result<(), SyncError> {
        self.client.post_empty(
            "revoking the device",
            &format!("/v1/admin/devices/{device}/revoke"),
        )
    }
}
