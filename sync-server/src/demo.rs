//! `--demo`: seeds the example restaurant (`examples/restaurant.toml`) on first start and,
//! on every start, issues a fresh one-time code per person of the demo site so a phone or
//! the CLI can enroll at once.

use chrono::{DateTime, Duration, Utc};
use proofline_core::routines_file::parse_routines_file;

use crate::admin::{DEFAULT_CODE_MINUTES, import_text};
use crate::app::AppState;
use crate::enroll::issue_code;
use crate::error::ApiError;

/// The demo org.
pub const DEMO_FILE: &str = include_str!("../../examples/restaurant.toml");

/// One person's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCode {
    /// Their name.
    pub name: String,
    /// Their role at the demo site.
    pub role: String,
    /// The code.
    pub code: String,
}

/// What `--demo` prints after the start-up lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoIntro {
    /// The demo site's name.
    pub site_name: String,
    /// Its zone.
    pub time_zone: String,
    /// The org's name.
    pub org_name: String,
    /// When the codes stop working.
    pub valid_until: DateTime<Utc>,
    /// One code per person of the site.
    pub codes: Vec<DemoCode>,
}

impl DemoIntro {
    /// The lines to print, the table aligned.
    pub fn lines(&self, admin_token: &str) -> Vec<String> {
        let mut lines = vec![
            format!(
                "Demo: {} ({}), org {}",
                self.site_name, self.time_zone, self.org_name
            ),
            format!(
                "    enrollment codes (one-time, valid until {}):",
                self.valid_until.format("%Y-%m-%d %H:%M UTC")
            ),
        ];
        let name_width = self
            .codes
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        let role_width = self.codes.iter().map(|c| c.role.len()).max().unwrap_or(0);
        for c in &self.codes {
            lines.push(format!(
                "      {:<name_width$}   {:<role_width$}  {}",
                c.name, c.role, c.code
            ));
        }
        lines.push(format!("    admin token: {admin_token}"));
        lines
    }
}

/// Seeds the demo org if the server has no sites yet, then issues the codes. Blocking.
pub fn prepare(state: &AppState, now: DateTime<Utc>) -> Result<DemoIntro, ApiError> {
    let file = parse_routines_file("examples/restaurant.toml", DEMO_FILE)
        .map_err(|e| ApiError::internal("reading the demo routines file", e))?;
    if state.org().org().sites.is_empty() {
        import_text(state, DEMO_FILE, now)?;
    }
    let org = state.org();
    let Some(site) = file.sites.first().and_then(|s| org.org().site(s.id)) else {
        return Err(ApiError::internal(
            "seeding the demo",
            "the demo site is missing after the import",
        ));
    };
    let valid_until = now + Duration::minutes(DEFAULT_CODE_MINUTES);
    let mut codes = Vec::new();
    for person in &org.org().people {
        let Some(role) = person.role_at(site.id) else {
            continue;
        };
        codes.push(DemoCode {
            name: person.name.clone(),
            role: role.to_string(),
            code: issue_code(state, person.id, valid_until, now)?,
        });
    }
    Ok(DemoIntro {
        site_name: site.name.clone(),
        time_zone: site.time_zone.name().to_string(),
        org_name: org.org().name.clone(),
        valid_until,
        codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_table_is_aligned() {
        let intro = DemoIntro {
            site_name: "Harbor Kitchen".into(),
            time_zone: "America/New_York".into(),
            org_name: "Harbor Kitchen Group".into(),
            valid_until: DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
                .expect("instant")
                .with_timezone(&Utc),
            codes: vec![
                DemoCode {
                    name: "Maria Lopez".into(),
                    role: "staff".into(),
                    code: "7KQ2-M9XD-4FHP".into(),
                },
                DemoCode {
                    name: "Sam Reed".into(),
                    role: "supervisor".into(),
                    code: "AAAA-BBBB-CCCC".into(),
                },
            ],
        };
        assert_eq!(
            intro.lines("tok"),
            vec![
                "Demo: Harbor Kitchen (America/New_York), org Harbor Kitchen Group",
                "    enrollment codes (one-time, valid until 2026-12-03 10:00 UTC):",
                "      Maria Lopez   staff       7KQ2-M9XD-4FHP",
                "      Sam Reed      supervisor  AAAA-BBBB-CCCC",
                "    admin token: tok",
            ]
        );
    }
}
