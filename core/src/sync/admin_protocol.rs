//! The admin API's wire types (`/v1/admin/…`, admin token only; see `docs/sync.md`): the
//! one definition the server answers with and the admin client ([`super::admin`]) and the
//! CLI send and read. Plain data only (serde).
//!
//! Requests refuse fields they do not know (a typo is an error, not a silent default);
//! answers read leniently (fields a newer server adds are ignored, fields an older one
//! lacks take their defaults).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::model::{DeviceId, Holiday, Person, PersonId, RoutineId, Site, SiteId};
use crate::store::BlobKind;

/// `GET /v1/admin/org`: the org as the server defines it.
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

/// `POST /v1/admin/sites`: a site to add, or to change (same key). Answered with the
/// [`Site`] as defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Short stable key (`harbor`): letters, digits, `-`, `_`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// IANA time zone (`America/New_York`).
    pub time_zone: String,
    /// Closed weekdays (kept as they are when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_weekdays: Option<Vec<Weekday>>,
    /// Holidays (kept as they are when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holidays: Option<Vec<Holiday>>,
}

/// `POST /v1/admin/people`: a person to add, or to change (same key). Answered with the
/// [`Person`] as defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Short stable key (`maria`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Role per site: site key or id → `staff`, `supervisor`, `lead` or `admin`
    /// ([`crate::model::Role::as_str`]).
    pub roles: BTreeMap<String, String>,
}

/// `POST /v1/admin/import` (a routines file, TOML): what the file held and what was
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Sites in the file.
    #[serde(default)]
    pub sites: usize,
    /// People in the file.
    #[serde(default)]
    pub people: usize,
    /// Routines in the file.
    #[serde(default)]
    pub routines: usize,
    /// Absences in the file.
    #[serde(default)]
    pub absences: usize,
    /// Definition events written (0 when nothing changed).
    #[serde(default)]
    pub events_written: usize,
}

/// `POST /v1/admin/enrollment-codes`: a one-time code for a person's device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The person (key or id).
    pub person: String,
    /// Minutes the code stays valid (server default: 4320, 72 h; at most 90 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_minutes: Option<i64>,
    /// Or the instant it stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The answer to a [`CodeRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCode {
    /// The code, as printed (`XXXX-XXXX-XXXX`).
    pub code: String,
    /// The person it enrolls a device for.
    pub person: PersonId,
    /// Their name.
    #[serde(default)]
    pub person_name: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// `GET /v1/admin/devices`: one enrolled device.
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
    /// Whether an admin revoked its token.
    #[serde(default)]
    pub revoked: bool,
}

/// `GET /v1/admin/blobs/{sha256}`: a stored blob, audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobAudit {
    /// Its name: the SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Photo or thumbnail.
    pub kind: BlobKind,
    /// For a thumbnail: the photo it previews.
    #[serde(default)]
    pub photo: Option<String>,
    /// The sites it was uploaded for.
    #[serde(default)]
    pub sites: Vec<SiteId>,
    /// Whether the file on disk still hashes to its name.
    pub verified: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_leave_out_what_is_not_given_and_refuse_unknown_fields() {
        let site = NewSite {
            key: "harbor".into(),
            name: "Harbor Kitchen".into(),
            time_zone: "America/New_York".into(),
            closed_weekdays: None,
            holidays: None,
        };
        assert_eq!(
            serde_json::to_string(&site).expect("encode"),
            r#"{"key":"harbor","name":"Harbor Kitchen","time_zone":"America/New_York"}"#
        );
        let code = CodeRequest {
            person: "maria".into(),
            expires_in_minutes: None,
            expires_at: None,
        };
        assert_eq!(
            serde_json::to_string(&code).expect("encode"),
            r#"{"person":"maria"}"#
        );
        assert!(serde_json::from_str::<CodeRequest>(r#"{"person":"x","expires":1}"#).is_err());
    }

    #[test]
    fn answers_read_leniently() {
        let summary: ImportSummary =
            serde_json::from_str(r#"{"sites":1,"events_written":4,"new_field":true}"#)
                .expect("decode");
        assert_eq!(summary.sites, 1);
        assert_eq!(summary.routines, 0);
        assert_eq!(summary.events_written, 4);
    }
}
