//! Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01).
//!
//! The cadence engine works on plain integers in its inner loop; these are the well-known
//! branch-light conversions (after H. Hinnant's `days_from_civil`), kept allocation-free.

/// Day number of a civil date. `month` is 1..=12, `day` 1..=31.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date `(year, month, day)` of a day number.
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// Year of a day number.
pub fn year_of(days: i64) -> i32 {
    civil_from_days(days).0
}

/// Weekday of a day number, 0 = Monday … 6 = Sunday.
pub fn weekday(days: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    (days + 3).rem_euclid(7) as u32
}

/// Whether `year` is a leap year.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in a month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Number of days in a year.
pub fn days_in_year(year: i32) -> u32 {
    if is_leap(year) { 366 } else { 365 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn round_trips_against_chrono_over_four_centuries() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        for days in (-146_097 * 2..146_097 * 2).step_by(7) {
            let date = epoch + chrono::Days::new(0) + chrono::Duration::days(days);
            assert_eq!(
                civil_from_days(days),
                (date.year(), date.month(), date.day())
            );
            assert_eq!(days_from_civil(date.year(), date.month(), date.day()), days);
            assert_eq!(weekday(days), date.weekday().num_days_from_monday());
        }
    }
}
