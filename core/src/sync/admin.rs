//! A blocking client for the server's admin API (`/v1/admin/…`, see `docs/sync.md`), for
//! the `proofline admin` commands and for tests: org, sites, people, routines import,
//! enrollment codes, devices. Same timeouts, retries and typed errors as the device's
//! [`SyncClient`]; requests that create something are retried only when they could not be
//! sent. The wire types are [`crate::sync::admin_protocol`]'s, shared with the server.

use crate::model::{DeviceId, Person, Site};
use crate::sync::admin_protocol::{
    AdminOrg, CodeRequest, DeviceInfo, ImportSummary, IssuedCode, NewPerson, NewSite,
};
use crate::sync::client::{ClientOptions, SyncClient, SyncError};

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

    /// Imports a routines file (TOML text, the CLI's format); the answer counts what the
    /// file held and what was written.
    pub fn import(&self, toml: &str) -> Result<ImportSummary, SyncError> {
        self.client.post_raw(
            "importing the routines file",
            "/v1/admin/import",
            "application/toml",
            toml.as_bytes(),
        )
    }

    /// Issues a one-time enrollment code for a person.
    pub fn enrollment_code(&self, request: &CodeRequest) -> Result<IssuedCode, SyncError> {
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
