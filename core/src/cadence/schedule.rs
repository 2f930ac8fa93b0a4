//! Windowed expansion of a compiled RRULE in a site's zone.
//!
//! Rules iterate in local wall-clock time (as python-dateutil and calendar software do); each
//! local time maps to an instant by the DST policy in [`crate::zone`]; equal instants collapse.
//! Expansion of `[from, until)` seeks straight to the period containing `from` (only COUNT
//! rules replay from the start, since COUNT numbers occurrences from it), so a rule started
//! ten years ago costs the same as one started yesterday.

use chrono::{Datelike, NaiveDateTime, Timelike};
use chrono_tz::Tz;

use super::closed_days::{ClosedDays, MAX_MOVE_DAYS};
use super::rrule::{Frequency, RRule, Until, WeekdayNum};
use crate::civil::{civil_from_days, days_from_civil, days_in_month, weekday};
use crate::model::ClosedDayPolicy;
use crate::zone::{LocalMapper, LocalSeconds, SPAN_AHEAD, UnixSeconds};

const DAY: i64 = 86_400;

/// A rule compiled for fast expansion: anchor, zone, EXDATEs and closed-day policy.
#[derive(Debug, Clone)]
pub struct Schedule {
    rule: RRule,
    tz: Tz,
    start: LocalSeconds,
    exdates: Vec<LocalSeconds>,
    until: Option<UnixSeconds>,
    filters: DayFilters,
    hour_mask: u32,
    minute_mask: u64,
    second_mask: u64,
    /// Seconds-of-day candidates for DAILY and coarser rules (BYHOUR × BYMINUTE × BYSECOND).
    times: Vec<i64>,
    /// For HOURLY/MINUTELY: offsets within the period (minute × second, or second).
    sub_period: Vec<i64>,
    /// HOURLY/MINUTELY rules whose step divides a day (and without BYSETPOS) put the same
    /// times on every day: they are expanded day by day over this precomputed grid (held in
    /// `times`) instead of walking hundreds of mostly empty periods.
    day_grid: bool,
    closed: ClosedDays,
    policy: ClosedDayPolicy,
}

#[derive(Debug, Clone, Default)]
struct DayFilters {
    month_mask: u16,
    monthday_pos: u32,
    monthday_neg: u32,
    weekday_mask: u8,
    nth: Vec<WeekdayNum>,
    /// Ordinals count within the month (else within the year).
    nth_in_month: bool,
}

impl DayFilters {
    fn matches(&self, day: i64, year: i32, month: u32, dom: u32) -> bool {
        if self.month_mask != 0 && self.month_mask & (1 << month) == 0 {
            return false;
        }
        let dim = days_in_month(year, month);
        if (self.monthday_pos | self.monthday_neg) != 0
            && self.monthday_pos & (1 << dom) == 0
            && self.monthday_neg & (1 << (dim - dom + 1)) == 0
        {
            return false;
        }
        if self.weekday_mask == 0 && self.nth.is_empty() {
            return true;
        }
        let wd = weekday(day) as u8;
        if self.weekday_mask & (1 << wd) != 0 {
            return true;
        }
        if self.nth.is_empty() {
            return false;
        }
        let (span_first, span_last) = if self.nth_in_month {
            let first = day - i64::from(dom) + 1;
            (first, first + i64::from(dim) - 1)
        } else {
            let first = days_from_civil(year, 1, 1);
            (first, days_from_civil(year + 1, 1, 1) - 1)
        };
        self.nth.iter().any(|n| {
            n.weekday == wd
                && if n.ordinal > 0 {
                    (day - span_first) / 7 + 1 == i64::from(n.ordinal)
                } else {
                    (span_last - day) / 7 + 1 == i64::from(-n.ordinal)
                }
        })
    }
}

fn mask<T: Copy + Into<u32>>(values: &[T]) -> u64 {
    values.iter().fold(0u64, |m, v| m | (1u64 << (*v).into()))
}

impl Schedule {
    /// Compiles `rule` anchored at local `start` in `tz`, excluding the local times `exdates`.
    pub fn new(rule: RRule, start: NaiveDateTime, tz: Tz, exdates: &[NaiveDateTime]) -> Self {
        let mut rule = rule;
        // Fill in what the rule leaves open from the anchor, as RFC 5545 and dateutil do.
        if rule.by_day.is_empty() && rule.by_month_day.is_empty() {
            match rule.freq {
                Frequency::Yearly => {
                    if rule.by_month.is_empty() {
                        rule.by_month = vec![start.month() as u8];
                    }
                    rule.by_month_day = vec![start.day() as i8];
                }
                Frequency::Monthly => rule.by_month_day = vec![start.day() as i8],
                Frequency::Weekly => {
                    rule.by_day = vec![WeekdayNum {
                        ordinal: 0,
                        weekday: start.weekday().num_days_from_monday() as u8,
                    }];
                }
                _ => {}
            }
        }
        if rule.by_hour.is_empty() && rule.freq < Frequency::Hourly {
            rule.by_hour = vec![start.hour() as u8];
        }
        if rule.by_minute.is_empty() && rule.freq < Frequency::Minutely {
            rule.by_minute = vec![start.minute() as u8];
        }
        if rule.by_second.is_empty() {
            rule.by_second = vec![start.second() as u8];
        }

        let mut filters = DayFilters {
            month_mask: mask(&rule.by_month) as u16,
            nth_in_month: rule.freq == Frequency::Monthly || !rule.by_month.is_empty(),
            ..DayFilters::default()
        };
        for d in &rule.by_month_day {
            if *d > 0 {
                filters.monthday_pos |= 1 << d;
            } else {
                filters.monthday_neg |= 1 << (-d);
            }
        }
        for d in &rule.by_day {
            if d.ordinal == 0 {
                filters.weekday_mask |= 1 << d.weekday;
            } else {
                filters.nth.push(*d);
            }
        }

        let mut times: Vec<i64> = Vec::new();
        for h in &rule.by_hour {
            for m in &rule.by_minute {
                for s in &rule.by_second {
                    times.push(i64::from(*h) * 3600 + i64::from(*m) * 60 + i64::from(*s));
                }
            }
        }
        let sub_period: Vec<i64> = match rule.freq {
            Frequency::Hourly => rule
                .by_minute
                .iter()
                .flat_map(|m| {
                    rule.by_second
                        .iter()
                        .map(move |s| i64::from(*m) * 60 + i64::from(*s))
                })
                .collect(),
            _ => rule.by_second.iter().map(|s| i64::from(*s)).collect(),
        };

        let step = match rule.freq {
            Frequency::Hourly => 3600 * i64::from(rule.interval),
            Frequency::Minutely => 60 * i64::from(rule.interval),
            _ => 0,
        };
        let day_grid = step > 0 && DAY % step == 0 && rule.by_set_pos.is_empty();
        if day_grid {
            // Period starts are the anchor floored to its hour (or minute) plus k steps; as the
            // step divides a day, their times of day are the same every day.
            let unit = if rule.freq == Frequency::Hourly {
                3600
            } else {
                60
            };
            let anchor = start.and_utc().timestamp().div_euclid(unit) * unit;
            let phase = anchor.rem_euclid(step);
            let hour_mask = mask(&rule.by_hour);
            let minute_mask = mask(&rule.by_minute);
            times = (0..DAY / step)
                .map(|j| phase + j * step)
                .filter(|t| {
                    let (h, m) = (t / 3600, (t / 60) % 60);
                    (rule.by_hour.is_empty() || hour_mask & (1 << h) != 0)
                        && (rule.freq == Frequency::Hourly
                            || rule.by_minute.is_empty()
                            || minute_mask & (1 << m) != 0)
                })
                .flat_map(|t| sub_period.iter().map(move |s| t + s))
                .collect();
        }

        let mut exdates: Vec<LocalSeconds> =
            exdates.iter().map(|d| d.and_utc().timestamp()).collect();
        exdates.sort_unstable();
        exdates.dedup();

        let until = rule.until.map(|u| match u {
            Until::Utc(t) => t.timestamp(),
            Until::Local(t) => crate::zone::local_to_instant(tz, t).timestamp(),
            Until::Date(d) => {
                let end_of_day = d.and_hms_opt(23, 59, 59).unwrap_or_default();
                crate::zone::local_to_instant(tz, end_of_day).timestamp()
            }
        });

        Schedule {
            hour_mask: mask(&rule.by_hour) as u32,
            minute_mask: mask(&rule.by_minute),
            second_mask: mask(&rule.by_second),
            rule,
            tz,
            start: start.and_utc().timestamp(),
            exdates,
            until,
            filters,
            times,
            sub_period,
            day_grid,
            closed: ClosedDays::default(),
            policy: ClosedDayPolicy::RunAnyway,
        }
    }

    /// Applies a site's closed days with a routine's policy.
    pub fn with_closed_days(mut self, closed: ClosedDays, policy: ClosedDayPolicy) -> Self {
        self.closed = closed;
        self.policy = policy;
        self
    }

    /// The rule (with the defaults taken from the anchor filled in).
    pub fn rule(&self) -> &RRule {
        &self.rule
    }

    /// The site's zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    fn start_day(&self) -> i64 {
        self.start.div_euclid(DAY)
    }

    fn interval(&self) -> i64 {
        i64::from(self.rule.interval)
    }

    /// Index of the first period that can hold local time `lo` (never before the anchor's).
    fn first_period(&self, lo: LocalSeconds) -> i64 {
        if self.day_grid {
            return (lo.div_euclid(DAY) - self.start_day()).max(0);
        }
        let k = match self.rule.freq {
            Frequency::Yearly => {
                let (y0, _, _) = civil_from_days(self.start_day());
                let (y, _, _) = civil_from_days(lo.div_euclid(DAY));
                i64::from(y - y0).div_euclid(self.interval())
            }
            Frequency::Monthly => {
                let (y0, m0, _) = civil_from_days(self.start_day());
                let (y, m, _) = civil_from_days(lo.div_euclid(DAY));
                let months =
                    (i64::from(y) * 12 + i64::from(m)) - (i64::from(y0) * 12 + i64::from(m0));
                months.div_euclid(self.interval())
            }
            Frequency::Weekly => {
                (lo.div_euclid(DAY) - self.week_start_day()).div_euclid(7 * self.interval())
            }
            Frequency::Daily => (lo.div_euclid(DAY) - self.start_day()).div_euclid(self.interval()),
            Frequency::Hourly => {
                (lo - self.start.div_euclid(3600) * 3600).div_euclid(3600 * self.interval())
            }
            Frequency::Minutely => {
                (lo - self.start.div_euclid(60) * 60).div_euclid(60 * self.interval())
            }
        };
        k.max(0)
    }

    fn week_start_day(&self) -> i64 {
        let sd = self.start_day();
        let back = (i64::from(weekday(sd)) - i64::from(self.rule.wkst)).rem_euclid(7);
        sd - back
    }

    /// First local second of period `k`.
    fn period_start(&self, k: i64) -> LocalSeconds {
        if self.day_grid {
            return (self.start_day() + k) * DAY;
        }
        let n = k * self.interval();
        match self.rule.freq {
            Frequency::Yearly => {
                let (y0, _, _) = civil_from_days(self.start_day());
                days_from_civil(y0 + n as i32, 1, 1) * DAY
            }
            Frequency::Monthly => {
                let (y0, m0, _) = civil_from_days(self.start_day());
                let idx = i64::from(y0) * 12 + i64::from(m0 - 1) + n;
                days_from_civil(idx.div_euclid(12) as i32, idx.rem_euclid(12) as u32 + 1, 1) * DAY
            }
            Frequency::Weekly => (self.week_start_day() + 7 * n) * DAY,
            Frequency::Daily => (self.start_day() + n) * DAY,
            Frequency::Hourly => self.start.div_euclid(3600) * 3600 + n * 3600,
            Frequency::Minutely => self.start.div_euclid(60) * 60 + n * 60,
        }
    }

    fn push_days(&self, first_day: i64, last_day: i64, out: &mut Vec<LocalSeconds>) {
        for day in first_day..=last_day {
            let (y, m, d) = civil_from_days(day);
            if self.filters.matches(day, y, m, d) {
                let base = day * DAY;
                out.extend(self.times.iter().map(|t| base + t));
            }
        }
    }

    /// Every local candidate of period `k`, sorted, with BYSETPOS applied.
    fn period_candidates(&self, k: i64, out: &mut Vec<LocalSeconds>) {
        out.clear();
        let ps = self.period_start(k);
        let day = ps.div_euclid(DAY);
        if self.day_grid {
            self.push_days(day, day, out);
            return;
        }
        match self.rule.freq {
            Frequency::Yearly => {
                let (y, _, _) = civil_from_days(day);
                for month in 1..=12u32 {
                    if self.filters.month_mask != 0 && self.filters.month_mask & (1 << month) == 0 {
                        continue;
                    }
                    let first = days_from_civil(y, month, 1);
                    self.push_days(first, first + i64::from(days_in_month(y, month)) - 1, out);
                }
            }
            Frequency::Monthly => {
                let (y, m, _) = civil_from_days(day);
                self.push_days(day, day + i64::from(days_in_month(y, m)) - 1, out);
            }
            Frequency::Weekly => self.push_days(day, day + 6, out),
            Frequency::Daily => self.push_days(day, day, out),
            Frequency::Hourly | Frequency::Minutely => {
                let (y, m, d) = civil_from_days(day);
                let sec_of_day = ps - day * DAY;
                let hour = (sec_of_day / 3600) as u32;
                let minute = ((sec_of_day / 60) % 60) as u32;
                let hour_ok = self.rule.by_hour.is_empty() || self.hour_mask & (1 << hour) != 0;
                let minute_ok = self.rule.freq == Frequency::Hourly
                    || self.rule.by_minute.is_empty()
                    || self.minute_mask & (1 << minute) != 0;
                if hour_ok && minute_ok && self.filters.matches(day, y, m, d) {
                    out.extend(self.sub_period.iter().map(|s| ps + s));
                }
            }
        }
        if !self.rule.by_set_pos.is_empty() && !out.is_empty() {
            let n = out.len() as i64;
            let mut picked: Vec<LocalSeconds> = self
                .rule
                .by_set_pos
                .iter()
                .filter_map(|p| {
                    let idx = if *p > 0 {
                        i64::from(*p) - 1
                    } else {
                        n + i64::from(*p)
                    };
                    (0..n).contains(&idx).then(|| out[idx as usize])
                })
                .collect();
            picked.sort_unstable();
            picked.dedup();
            *out = picked;
        }
        debug_assert!(self.second_mask != 0);
    }

    /// Due instants in `[from, until)` (Unix seconds), sorted, without duplicates.
    pub fn expand_into(&self, from: UnixSeconds, until: UnixSeconds, out: &mut Vec<UnixSeconds>) {
        let first_len = out.len();
        if from >= until {
            return;
        }
        // A local time is within a day of its instant (|offset| < 24 h); closed-day moves can
        // carry an occurrence across several closed days, so widen the scan by those runs.
        // A move lands on an open day next to the run it leaves, so the run to cover is the
        // one just before the first scanned day (moving later) or just after the last one
        // (moving earlier) — even when that day itself is open.
        let mut scan_lo = from - DAY;
        let mut scan_hi = until + DAY;
        match self.policy {
            ClosedDayPolicy::MoveLater => {
                let first = scan_lo.div_euclid(DAY);
                scan_lo = (first - self.closed.run_ending_at(first - 1)) * DAY;
            }
            ClosedDayPolicy::MoveEarlier => {
                let after_last = scan_hi.div_euclid(DAY) + 1;
                scan_hi = (after_last + self.closed.run_starting_at(after_last)) * DAY - 1;
            }
            ClosedDayPolicy::Skip | ClosedDayPolicy::RunAnyway => {}
        }
        // Nothing occurs before the anchor or after UNTIL, and a move carries an occurrence
        // at most MAX_MOVE_DAYS: a window reaching far beyond either costs nothing extra.
        scan_lo = scan_lo.max(self.start - (MAX_MOVE_DAYS + 1) * DAY);
        if let Some(u) = self.until {
            scan_hi = scan_hi.min(u + (MAX_MOVE_DAYS + 2) * DAY);
        }
        if scan_lo > scan_hi {
            return;
        }
        let stop = match self.until {
            Some(u) => scan_hi.min(u + DAY),
            None => scan_hi,
        };
        let mut mapper = LocalMapper::new(self.tz, scan_lo, scan_hi.min(scan_lo + SPAN_AHEAD));
        let mut k = if self.rule.count.is_some() {
            0
        } else {
            self.first_period(scan_lo.max(self.start))
        };
        let mut counted: u32 = 0;
        let mut buf = Vec::with_capacity(self.times.len().max(self.sub_period.len()) * 8);
        'periods: loop {
            if self.period_start(k) > stop {
                break;
            }
            self.period_candidates(k, &mut buf);
            for &local in &buf {
                if local < self.start {
                    continue;
                }
                if let Some(limit) = self.rule.count {
                    counted += 1;
                    if counted > limit {
                        break 'periods;
                    }
                }
                if local < scan_lo || local > scan_hi {
                    continue;
                }
                if !self.exdates.is_empty() && self.exdates.binary_search(&local).is_ok() {
                    continue;
                }
                if let Some(u) = self.until
                    && mapper.instant(local) > u
                {
                    continue;
                }
                let Some(moved) = self.closed.apply(self.policy, local) else {
                    continue;
                };
                let at = mapper.instant(moved);
                if at >= from && at < until {
                    out.push(at);
                }
            }
            k += 1;
        }
        let produced = &mut out[first_len..];
        if !produced.is_sorted() {
            produced.sort_unstable();
        }
        let mut tail = out.split_off(first_len);
        tail.dedup();
        out.extend(tail);
    }

    /// Due instants in `[from, until)` (Unix seconds), sorted, without duplicates.
    pub fn expand(&self, from: UnixSeconds, until: UnixSeconds) -> Vec<UnixSeconds> {
        let mut out = Vec::new();
        self.expand_into(from, until, &mut out);
        out
    }
}
