//! Writing results: stdout that tolerates a closed pipe, JSON, aligned columns and the
//! time formats shared by the commands.

use std::io::Write;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::error::CliError;

/// Writes `text` to stdout. A closed pipe (`proofline … | head`) is not an error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Failed(format!("cannot write the output: {e}"))),
    }
}

/// Writes `value` as pretty JSON and a newline.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Failed(format!("cannot write JSON: {e}")))?;
    print(&format!("{text}\n"))
}

/// An instant as RFC 3339 with the zone's offset at that instant:
/// `2026-03-08T03:30:00-04:00`.
pub fn rfc3339_in(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A local date as a heading: `Tue 1 Dec 2026`.
pub fn date_heading(date: NaiveDate) -> String {
    date.format("%a %-d %b %Y").to_string()
}

/// A local time, with the date only when it is not `on`: `07:00` or `Mon 30 Nov 16:00`.
pub fn local_time(tz: Tz, at: DateTime<Utc>, on: NaiveDate) -> String {
    let local = at.with_timezone(&tz);
    if local.date_naive() == on {
        local.format("%H:%M").to_string()
    } else {
        local.format("%a %-d %b %H:%M").to_string()
    }
}

/// Rows of cells, padded so each column lines up (the last column is not padded).
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Row>,
}

#[derive(Debug)]
enum Row {
    Cells(Vec<String>),
    /// A line printed as is, outside the columns (headings, details).
    Line(String),
}

impl Table {
    /// Adds a row of cells.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Row::Cells(cells));
    }

    /// Adds a line that is not part of the columns.
    pub fn line(&mut self, text: String) {
        self.rows.push(Row::Line(text));
    }

    /// Width of each column (in characters) over the padded cells of every row.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = Vec::new();
        for row in &self.rows {
            if let Row::Cells(cells) = row {
                // The last cell of a row is never padded, so it does not widen its column
                // (a detail row such as `["", "escalation: …"]` may be long).
                let padded = cells.len().saturating_sub(1);
                for (i, cell) in cells.iter().take(padded).enumerate() {
                    let w = cell.chars().count();
                    match widths.get_mut(i) {
                        Some(max) => *max = (*max).max(w),
                        None => widths.push(w),
                    }
                }
            }
        }
        widths
    }

    /// The table as text, `indent` spaces before each row of cells, two between columns.
    pub fn render(&self, indent: usize) -> String {
        let widths = self.widths();
        let mut out = String::new();
        for row in &self.rows {
            match row {
                Row::Line(text) => {
                    out.push_str(text);
                    out.push('\n');
                }
                Row::Cells(cells) => {
                    let mut line = " ".repeat(indent);
                    for (i, cell) in cells.iter().enumerate() {
                        line.push_str(cell);
                        if i + 1 < cells.len() {
                            let pad = widths.get(i).copied().unwrap_or(0) + 2;
                            line.push_str(&" ".repeat(pad.saturating_sub(cell.chars().count())));
                        }
                    }
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::default();
        t.row(vec!["a".into(), "bb".into(), "c".into()]);
        t.line("-- heading".into());
        t.row(vec!["aaa".into(), "b".into(), "c".into()]);
        assert_eq!(t.render(2), "  a    bb  c\n-- heading\n  aaa  b   c\n");
    }

    #[test]
    fn rfc3339_uses_the_offset_in_force() {
        let at = DateTime::parse_from_rfc3339("2026-03-08T07:30:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        let text = at.map(|at| rfc3339_in(chrono_tz::America::New_York, at));
        assert_eq!(text.as_deref(), Some("2026-03-08T03:30:00-04:00"));
    }
}
