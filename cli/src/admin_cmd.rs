//! `proofline admin`: the admin API of a `proofline-server` (see `docs/sync.md`): import a
//! routines file, add sites and people, issue enrollment codes, list people and devices.
//!
//! Every subcommand takes `--server URL` (env `PROOFLINE_SERVER`) and `--admin-token TOKEN`
//! (env `PROOFLINE_ADMIN_TOKEN`; the server prints where its generated token is). What the
//! user gives is checked here first (zones, roles, the routines file), so mistakes are
//! reported without a round trip; the server's refusals are printed as it words them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use proofline_core::model::{DeviceId, Org, Role};
use proofline_core::routines_file::load_routines_file;
use proofline_core::sync::admin::AdminClient;
use proofline_core::sync::admin_protocol::{AdminOrg, CodeRequest, NewPerson, NewSite};
use proofline_core::sync::client::{ClientOptions, SyncError};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{self, Table};

/// Examples shown by `proofline admin --help`.
pub const ADMIN_EXAMPLES: &str = "\
Examples:
  export PROOFLINE_SERVER=http://127.0.0.1:8787
  export PROOFLINE_ADMIN_TOKEN=$(cat data/admin-token)

  # Load the org's sites, people and routines (importing the same file again writes nothing)
  proofline admin import examples/restaurant.toml

  # Or build it up by hand
  proofline admin site add harbor 'Harbor Kitchen' America/New_York
  proofline admin person add maria 'Maria Lopez' --role harbor=staff

  # A one-time code for Maria's phone (valid 72 h unless told), then who is enrolled
  proofline admin code maria --expires-in-hours 24
  proofline admin people
  proofline admin devices --json
  proofline admin revoke 42c07738-14d6-4280-8ecb-6ea20a40475a

Exit status: 0 ok, 1 the server is unreachable or refused (token, permission), 2 bad input
(flags, the routines file, or something the server says does not exist or is malformed).";

/// Arguments of `proofline admin`.
#[derive(Debug, Args)]
#[command(after_help = ADMIN_EXAMPLES)]
pub struct AdminArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", env = "PROOFLINE_SERVER", global = true)]
    server: Option<String>,
    /// The admin token.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PROOFLINE_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    admin_token: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Import a routines file (TOML): sites, people, routines and absences.
    #[command(after_help = ADMIN_EXAMPLES)]
    Import(ImportArgs),
    /// Issue a one-time enrollment code for a person (key or id).
    #[command(after_help = ADMIN_EXAMPLES)]
    Code(CodeArgs),
    /// List the org's people and their roles.
    #[command(after_help = ADMIN_EXAMPLES)]
    People,
    /// List enrolled devices.
    #[command(after_help = ADMIN_EXAMPLES)]
    Devices,
    /// Revoke a device's token (it must enroll again with a new code).
    #[command(after_help = ADMIN_EXAMPLES)]
    Revoke(RevokeArgs),
    /// Sites.
    #[command(after_help = ADMIN_EXAMPLES)]
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// People.
    #[command(after_help = ADMIN_EXAMPLES)]
    Person {
        #[command(subcommand)]
        command: PersonCommand,
    },
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The routines file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Debug, Args)]
struct CodeArgs {
    /// The person (key, e.g. maria, or id).
    #[arg(value_name = "PERSON")]
    person: String,
    /// Hours the code stays valid, 1 to 8760 [default: the server's, 72].
    #[arg(long, value_name = "N")]
    expires_in_hours: Option<String>,
}

#[derive(Debug, Args)]
struct RevokeArgs {
    /// The device id (from `proofline admin devices`).
    #[arg(value_name = "DEVICE")]
    device: String,
}

#[derive(Debug, Subcommand)]
enum SiteCommand {
    /// Add a site.
    #[command(after_help = ADMIN_EXAMPLES)]
    Add {
        /// Short stable key (e.g. harbor).
        #[arg(value_name = "KEY")]
        key: String,
        /// Display name.
        #[arg(value_name = "NAME")]
        name: String,
        /// IANA time zone (e.g. America/New_York).
        #[arg(value_name = "ZONE")]
        zone: String,
    },
}

#[derive(Debug, Subcommand)]
enum PersonCommand {
    /// Add a person with a role at one or more sites.
    #[command(after_help = ADMIN_EXAMPLES)]
    Add {
        /// Short stable key (e.g. maria).
        #[arg(value_name = "KEY")]
        key: String,
        /// Display name.
        #[arg(value_name = "NAME")]
        name: String,
        /// A role at a site, SITE=ROLE (site key or id; staff, supervisor, lead or admin);
        /// repeatable.
        #[arg(long = "role", value_name = "SITE=ROLE", required = true)]
        roles: Vec<String>,
    },
}

/// Runs `proofline admin …`.
pub fn run(args: &AdminArgs, json: bool) -> Result<(), CliError> {
    // Check what needs no server first, so a typo is reported before the flags.
    match &args.command {
        AdminCommand::Import(a) => {
            let toml = read_routines(a)?;
            import(&client(args)?, a, &toml, json)
        }
        AdminCommand::Code(a) => {
            let hours = a
                .expires_in_hours
                .as_deref()
                .map(|h| crate::input::number("--expires-in-hours", h, 1, 8760))
                .transpose()?;
            code(&client(args)?, a, hours, json)
        }
        AdminCommand::People => people(&client(args)?, json),
        AdminCommand::Devices => devices(&client(args)?, json),
        AdminCommand::Revoke(a) => {
            let device = a.device.trim().parse::<uuid::Uuid>().map_err(|_| {
                CliError::BadInput(format!(
                    "DEVICE: \"{}\" is not a device id (copy it from `proofline admin devices`)",
                    a.device
                ))
            })?;
            revoke(&client(args)?, DeviceId(device), json)
        }
        AdminCommand::Site {
            command: SiteCommand::Add { key, name, zone },
        } => {
            let zone = crate::input::zone("ZONE", zone)?;
            let site = NewSite {
                key: non_empty("KEY", key)?,
                name: non_empty("NAME", name)?,
                time_zone: zone.name().to_string(),
                closed_weekdays: None,
                holidays: None,
            };
            add_site(&client(args)?, &site, json)
        }
        AdminCommand::Person {
            command: PersonCommand::Add { key, name, roles },
        } => {
            let person = NewPerson {
                key: non_empty("KEY", key)?,
                name: non_empty("NAME", name)?,
                roles: parse_roles(roles)?
                    .into_iter()
                    .map(|(site, role)| (site, role.as_str().to_string()))
                    .collect(),
            };
            add_person(&client(args)?, &person, json)
        }
    }
}

fn client(args: &AdminArgs) -> Result<AdminClient, CliError> {
    let server = args
        .server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            CliError::flag(
                "--server",
                "give the sync server's address (or set PROOFLINE_SERVER), e.g. http://127.0.0.1:8787",
            )
        })?;
    let token = args
        .admin_token
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            CliError::flag(
                "--admin-token",
                "give the server's admin token (or set PROOFLINE_ADMIN_TOKEN); a server that \
                 generated one keeps it in DATA_DIR/admin-token",
            )
        })?;
    AdminClient::new(server, token, ClientOptions::default()).map_err(|e| match e {
        SyncError::InvalidUrl { .. } => CliError::flag("--server", e),
        other => admin_error(other),
    })
}

/// The server's refusal: bad input (exit 2) for what the user named or sent, a failure
/// (exit 1) for the network, the token and permissions.
fn admin_error(e: SyncError) -> CliError {
    match e {
        SyncError::Unauthorized { message, .. } => CliError::Failed(format!(
            "the server refused the admin token ({}); check --admin-token or PROOFLINE_ADMIN_TOKEN",
            message.trim().trim_end_matches('.')
        )),
        SyncError::Refused { status: 403, .. } => CliError::Failed(e.to_string()),
        SyncError::Refused { .. } | SyncError::InvalidUrl { .. } => {
            CliError::BadInput(e.to_string())
        }
        SyncError::Offline { .. }
        | SyncError::Unavailable { .. }
        | SyncError::BadAnswer { .. }
        | SyncError::Setup(_) => CliError::Failed(e.to_string()),
    }
}

fn non_empty(what: &str, text: &str) -> Result<String, CliError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CliError::flag(what, "must not be empty"));
    }
    Ok(text.to_string())
}

fn parse_roles(roles: &[String]) -> Result<BTreeMap<String, Role>, CliError> {
    let mut out = BTreeMap::new();
    for text in roles {
        let Some((site, role)) = text.split_once('=') else {
            return Err(CliError::flag(
                "--role",
                format!("\"{text}\" is not SITE=ROLE (e.g. --role harbor=staff)"),
            ));
        };
        let site = site.trim();
        if site.is_empty() {
            return Err(CliError::flag(
                "--role",
                format!("\"{text}\" names no site (e.g. --role harbor=staff)"),
            ));
        }
        let role = Role::parse(role.trim().to_ascii_lowercase().as_str()).ok_or_else(|| {
            CliError::flag(
                "--role",
                format!(
                    "\"{}\" is not a role (staff, supervisor, lead or admin)",
                    role.trim()
                ),
            )
        })?;
        if out.insert(site.to_string(), role).is_some() {
            return Err(CliError::flag(
                "--role",
                format!("site \"{site}\" is given twice; a person has one role per site"),
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// import

fn read_routines(args: &ImportArgs) -> Result<String, CliError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", args.file.display())))?;
    // The same checks the server makes, reported without a round trip.
    let _: Org = load_routines_file(&args.file).map_err(|e| CliError::BadInput(e.to_string()))?;
    Ok(text)
}

fn import(client: &AdminClient, args: &ImportArgs, toml: &str, json: bool) -> Result<(), CliError> {
    let answer = client.import(toml).map_err(admin_error)?;
    if json {
        return output::print_json(&answer);
    }
    output::print(&format!(
        "Imported {} into {}: {} sites, {} people, {} routines, {} absences ({} events written).\n",
        args.file.display(),
        client.base_url(),
        answer.sites,
        answer.people,
        answer.routines,
        answer.absences,
        answer.events_written,
    ))
}

// ---------------------------------------------------------------------------------------
// code

fn code(
    client: &AdminClient,
    args: &CodeArgs,
    hours: Option<u32>,
    json: bool,
) -> Result<(), CliError> {
    let person = non_empty("PERSON", &args.person)?;
    let code = client
        .enrollment_code(&CodeRequest {
            person,
            expires_in_minutes: hours.map(|h| i64::from(h) * 60),
            expires_at: None,
        })
        .map_err(admin_error)?;
    if json {
        return output::print_json(&code);
    }
    let name = if code.person_name.is_empty() {
        code.person.to_string()
    } else {
        code.person_name.clone()
    };
    output::print(&format!(
        "Enrollment code for {name}: {}\n  one-time, valid until {}\n  on the device: proofline device enroll {} {} --db DIR\n",
        code.code,
        utc_text(code.expires_at),
        client.base_url(),
        code.code
    ))
}

// ---------------------------------------------------------------------------------------
// people, devices

fn people(client: &AdminClient, json: bool) -> Result<(), CliError> {
    let org = client.org().map_err(admin_error)?;
    if json {
        return output::print_json(&org.people);
    }
    let mut out = format!(
        "People of {} · {}\n\n",
        if org.name.is_empty() {
            "the org"
        } else {
            &org.name
        },
        client.base_url()
    );
    if org.people.is_empty() {
        out.push_str("  Nobody yet: `proofline admin import FILE` or `admin person add`.\n");
        return output::print(&out);
    }
    let mut table = Table::default();
    table.row(["NAME", "KEY", "ROLES"].map(String::from).to_vec());
    for person in &org.people {
        let roles: Vec<String> = person
            .roles
            .iter()
            .map(|r| format!("{} at {}", r.role, site_name(&org, r.site)))
            .collect();
        table.row(vec![
            person.name.clone(),
            person.key.clone(),
            roles.join(", "),
        ]);
    }
    out.push_str(&table.render(2));
    output::print(&out)
}

fn site_name(org: &AdminOrg, site: proofline_core::model::SiteId) -> String {
    org.sites
        .iter()
        .find(|s| s.id == site)
        .map_or_else(|| site.to_string(), |s| s.name.clone())
}

fn devices(client: &AdminClient, json: bool) -> Result<(), CliError> {
    let devices = client.devices().map_err(admin_error)?;
    if json {
        return output::print_json(&devices);
    }
    let mut out = format!("Devices · {}\n\n", client.base_url());
    if devices.is_empty() {
        out.push_str("  None enrolled yet: issue a code with `proofline admin code PERSON`.\n");
        return output::print(&out);
    }
    let mut table = Table::default();
    table.row(
        [
            "PERSON",
            "DEVICE",
            "PLATFORM",
            "ENROLLED",
            "LAST SEEN",
            "CLOCK",
            "STATUS",
            "ID",
        ]
        .map(String::from)
        .to_vec(),
    );
    for d in &devices {
        table.row(vec![
            if d.person_name.is_empty() {
                d.person.to_string()
            } else {
                d.person_name.clone()
            },
            d.name.clone().unwrap_or_else(|| "–".to_string()),
            d.platform.clone().unwrap_or_else(|| "–".to_string()),
            utc_text(d.created_at),
            d.last_seen.map_or_else(|| "never".to_string(), utc_text),
            d.clock_offset_ms.map_or_else(
                || "–".to_string(),
                |o| format!("{:+.1} s", o as f64 / 1000.0),
            ),
            if d.revoked { "revoked" } else { "active" }.to_string(),
            d.device.to_string(),
        ]);
    }
    out.push_str(&table.render(2));
    output::print(&out)
}

#[derive(Serialize)]
struct JsonRevoked {
    device: DeviceId,
    revoked: bool,
}

fn revoke(client: &AdminClient, device: DeviceId, json: bool) -> Result<(), CliError> {
    client.revoke_device(device).map_err(admin_error)?;
    if json {
        return output::print_json(&JsonRevoked {
            device,
            revoked: true,
        });
    }
    output::print(&format!(
        "Revoked device {device}: its token no longer works; it must enroll again with a new code.\n"
    ))
}

// ---------------------------------------------------------------------------------------
// site add, person add

fn add_site(client: &AdminClient, site: &NewSite, json: bool) -> Result<(), CliError> {
    let added = client.add_site(site).map_err(admin_error)?;
    if json {
        return output::print_json(&added);
    }
    output::print(&format!(
        "Added site {} ({}, {}).\nSite {}\n",
        added.name, added.key, added.time_zone, added.id
    ))
}

fn add_person(client: &AdminClient, person: &NewPerson, json: bool) -> Result<(), CliError> {
    let added = client.add_person(person).map_err(admin_error)?;
    if json {
        return output::print_json(&added);
    }
    let org = client.org().ok();
    let roles: Vec<String> = added
        .roles
        .iter()
        .map(|r| {
            let site = org
                .as_ref()
                .map_or_else(|| r.site.to_string(), |o| site_name(o, r.site));
            format!("{} at {site}", r.role)
        })
        .collect();
    output::print(&format!(
        "Added {} ({}): {}.\nPerson {}\n",
        added.name,
        added.key,
        roles.join(", "),
        added.id
    ))
}

/// "Thu 12 Dec 2026 10:00 UTC".
fn utc_text(at: DateTime<Utc>) -> String {
    at.format("%a %-d %b %Y %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_per_site() {
        let roles = parse_roles(&["harbor=staff".into(), "dock=Supervisor".into()]).expect("ok");
        assert_eq!(roles.get("harbor"), Some(&Role::Staff));
        assert_eq!(roles.get("dock"), Some(&Role::Supervisor));
        assert!(parse_roles(&["harbor".into()]).is_err());
        assert!(parse_roles(&["harbor=chef".into()]).is_err());
        assert!(parse_roles(&["harbor=staff".into(), "harbor=lead".into()]).is_err());
    }
}
