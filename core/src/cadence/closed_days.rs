//! A site's closed days (closed weekdays and holidays) and the closed-day policies.
//!
//! A move never searches further than [`MAX_MOVE_DAYS`]: if a site is closed for longer than
//! that, the occurrence stays where the rule put it (run anyway) rather than vanish silently.

use chrono::{Datelike, NaiveDate};

use crate::civil::{days_from_civil, weekday};
use crate::model::{ClosedDayPolicy, Site};
use crate::zone::LocalSeconds;

/// Furthest a closed-day move looks for an open day.
pub const MAX_MOVE_DAYS: i64 = 31;
const DAY: i64 = 86_400;

/// Closed weekdays and holidays as day numbers, for fast checks in the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosedDays {
    weekday_mask: u8,
    holidays: Vec<i64>,
}

impl ClosedDays {
    /// The closed days of a site.
    pub fn of_site(site: &Site) -> Self {
        let weekday_mask = site
            .closed_weekdays
            .iter()
            .fold(0u8, |m, w| m | (1 << w.num_days_from_monday()));
        let mut holidays: Vec<i64> = site.holidays.iter().map(|h| day_number(h.date)).collect();
        holidays.sort_unstable();
        holidays.dedup();
        ClosedDays {
            weekday_mask,
            holidays,
        }
    }

    /// Whether day number `day` is closed.
    #[inline]
    pub fn is_closed(&self, day: i64) -> bool {
        (self.weekday_mask & (1 << weekday(day))) != 0
            || (!self.holidays.is_empty() && self.holidays.binary_search(&day).is_ok())
    }

    /// Number of consecutive closed days ending at `day` (0 if `day` is open), capped.
    pub fn run_ending_at(&self, day: i64) -> i64 {
        (0..=MAX_MOVE_DAYS)
            .take_while(|i| self.is_closed(day - i))
            .count() as i64
    }

    /// Number of consecutive closed days starting at `day` (0 if `day` is open), capped.
    pub fn run_starting_at(&self, day: i64) -> i64 {
        (0..=MAX_MOVE_DAYS)
            .take_while(|i| self.is_closed(day + i))
            .count() as i64
    }

    /// Applies `policy` to a local time: `None` when the occurrence is skipped.
    #[inline]
    pub fn apply(&self, policy: ClosedDayPolicy, local: LocalSeconds) -> Option<LocalSeconds> {
        if policy == ClosedDayPolicy::RunAnyway {
            return Some(local);
        }
        let day = local.div_euclid(DAY);
        if !self.is_closed(day) {
            return Some(local);
        }
        let step = match policy {
            ClosedDayPolicy::Skip => return None,
            ClosedDayPolicy::RunAnyway => return Some(local),
            ClosedDayPolicy::MoveEarlier => -1,
            ClosedDayPolicy::MoveLater => 1,
        };
        let found = (1..=MAX_MOVE_DAYS).find(|i| !self.is_closed(day + step * i));
        Some(match found {
            Some(i) => local + step * i * DAY,
            None => local,
        })
    }
}

/// Day number of a date.
pub fn day_number(date: NaiveDate) -> i64 {
    days_from_civil(date.year(), date.month(), date.day())
}
