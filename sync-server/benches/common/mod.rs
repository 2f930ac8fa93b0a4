//! What the server benches share: the spread of repeated runs and number formatting.

#![allow(dead_code)] // each bench uses its own part

/// Median, min and max of the runs' figures.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

/// The spread of `values` (NaN when there are none).
pub fn spread(values: &[f64]) -> Spread {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    Spread {
        median,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        max: sorted.last().copied().unwrap_or(f64::NAN),
    }
}

/// `12,345`.
pub fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "yes" or "no", for a table's "met?" column.
pub fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "no" }
}

/// Prints a bench's rows as the markdown table that closes its output (metric, measured,
/// target, met?), or its error, exiting 1.
pub fn print_table(bench: &str, rows: Result<Vec<[String; 4]>, String>) {
    match rows {
        Ok(rows) => {
            println!();
            println!("| metric | measured (median, min–max) | target | met? |");
            println!("|---|---|---|---|");
            for [metric, measured, target, ok] in rows {
                println!("| {metric} | {measured} | {target} | {ok} |");
            }
        }
        Err(e) => {
            eprintln!("{bench} bench failed: {e}");
            std::process::exit(1);
        }
    }
}
