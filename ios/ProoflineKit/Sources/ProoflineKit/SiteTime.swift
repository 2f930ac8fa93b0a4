// Due times as people at the site read them: always in the site's time zone (a supervisor
// travelling, or a phone set to another zone, still sees the site's clock), in the phone's
// locale. Presentation only: which instants are due is the core's.

import Foundation

public struct SiteTime: Sendable {
    public let timeZone: TimeZone
    public let locale: Locale

    /// `zone` is the site's IANA zone (`Site.timeZone`); an unknown one falls back to UTC.
    /// Texts use fixed English patterns, like the Android app; `locale` is kept for callers
    /// that format numbers.
    public init(zone: String, locale: Locale = .current) {
        self.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
        self.locale = locale
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.locale = locale
        return calendar
    }

    /// The same fixed English patterns as the Android app (docs/screens.md), in the site's zone.
    private func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = pattern
        return formatter
    }

    /// "07:00".
    public func time(_ date: Date) -> String {
        formatter("HH:mm").string(from: date)
    }

    /// "Wed 9 Dec".
    public func day(_ date: Date) -> String {
        formatter("EEE d MMM").string(from: date)
    }

    /// "Wed 9 Dec, 07:00".
    public func dayAndTime(_ date: Date) -> String {
        formatter("EEE d MMM, HH:mm").string(from: date)
    }

    /// The time alone on the site's current day, else day and time: "07:00", "Wed 9 Dec, 07:00".
    public func dueText(_ date: Date, now: Date) -> String {
        calendar.isDate(date, inSameDayAs: now) ? time(date) : dayAndTime(date)
    }

    /// "in 20 min", "10 min ago" relative to `now`.
    public func relative(_ date: Date, now: Date) -> String {
        let minutes = Formats.minutes(from: now, to: date)
        if minutes == 0 { return "now" }
        return minutes > 0 ? "in \(Formats.span(minutes))" : "\(Formats.span(-minutes)) ago"
    }

    /// When something happened on this phone: "just now", "5 min ago", "3 h ago", or a day
    /// and time beyond a day ("Last synced").
    public func ago(_ date: Date, now: Date) -> String {
        let minutes = Formats.minutes(from: date, to: now)
        if minutes < 1 { return "just now" }
        if minutes < 24 * 60 { return "\(Formats.span(minutes)) ago" }
        return dayAndTime(date)
    }

    /// The start of the site-local day containing `date`.
    public func startOfDay(_ date: Date) -> Date {
        calendar.startOfDay(for: date)
    }

    /// `[start of the site-local day days-1 before now's, start of the next site-local day)`:
    /// the review period of the last `days` days.
    public func lastDays(_ days: Int, now: Date) -> (from: Date, until: Date) {
        let today = calendar.startOfDay(for: now)
        let until = calendar.date(byAdding: .day, value: 1, to: today)!
        let from = calendar.date(byAdding: .day, value: -(max(days, 1) - 1), to: today)!
        return (from, until)
    }

    /// A wall-clock time the core gives as text in this zone ("2026-12-09T07:00:00"),
    /// reformatted for display ("07:00" on `now`'s day, else "Wed 9 Dec, 07:00"). The core's
    /// text is returned unchanged if it is not in that form.
    public func localText(_ text: String, now: Date) -> String {
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = timeZone
        parser.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        guard let date = parser.date(from: String(text.prefix(19))) else { return text }
        return dueText(date, now: now)
    }

    /// The site-local day ("2026-12-09") of a core wall-clock text, for grouping.
    public static func dayKey(_ localText: String) -> String {
        String(localText.prefix(10))
    }

    /// "Wed 9 Dec" for a day key ("2026-12-09").
    public func dayTitle(_ dayKey: String) -> String {
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.timeZone = timeZone
        parser.dateFormat = "yyyy-MM-dd HH:mm"
        guard let date = parser.date(from: dayKey + " 12:00") else { return dayKey }
        return day(date)
    }
}

/// Words for the core's statuses (the status itself is the core's).
public func statusText(_ status: Status) -> String {
    switch status {
    case .upcoming: return "Upcoming"
    case .open: return "Open"
    case .due: return "Due"
    case .overdue: return "Overdue"
    case .missed: return "Missed"
    case .doneOnTime: return "Done on time"
    case .doneLate: return "Done late"
    case .excused: return "Excused"
    }
}

/// Whether a status is finished (nothing left to do on the check screen).
public func isResolved(_ status: Status) -> Bool {
    switch status {
    case .doneOnTime, .doneLate, .excused: return true
    default: return false
    }
}

/// Short texts both apps write the same way (docs/screens.md). Only formatting: statuses
/// come from the core; this writes the distance to a due time.
public enum Formats {
    /// Whole minutes from `from` to `to` (negative when `to` is earlier), towards zero.
    public static func minutes(from: Date, to: Date) -> Int {
        Int((to.timeIntervalSince(from) / 60).rounded(.towardZero))
    }

    /// "20 min", "1 h", "1 h 5 min", "2 d 3 h".
    public static func span(_ minutes: Int) -> String {
        let m = abs(minutes)
        if m < 60 { return "\(m) min" }
        if m < 24 * 60 { return m % 60 == 0 ? "\(m / 60) h" : "\(m / 60) h \(m % 60) min" }
        let hours = (m % (24 * 60)) / 60
        return hours == 0 ? "\(m / (24 * 60)) d" : "\(m / (24 * 60)) d \(hours) h"
    }

    /// Where a check stands relative to now: "due in 50 min", "due now", "due 5 min ago",
    /// "20 min overdue", "missed", or the status ("Done on time").
    public static func dueText(_ status: Status, due: Date, now: Date) -> String {
        let minutes = Self.minutes(from: now, to: due)
        switch status {
        case .upcoming, .open: return minutes <= 0 ? "due now" : "due in \(span(minutes))"
        case .due: return minutes >= 0 ? "due now" : "due \(span(-minutes)) ago"
        case .overdue: return "\(span(max(-minutes, 0))) overdue"
        case .missed: return "missed"
        default: return statusText(status)
        }
    }

    /// An on-time percentage ("92 %"), or "—" when nothing was final yet.
    public static func percent(_ value: Double?) -> String {
        value.map { "\(Int($0.rounded())) %" } ?? "—"
    }

    /// 5.0 as "5", 7.5 as "7.5".
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A reading's allowed range: "1–5 °C", "at least 0 kg", "at most 8 °C".
    public static func range(min: Double?, max: Double?, unit: String?) -> String? {
        let u = (unit ?? "").trimmingCharacters(in: .whitespaces).isEmpty ? "" : " \(unit!)"
        switch (min, max) {
        case let (lo?, hi?): return "\(number(lo))–\(number(hi))\(u)"
        case let (lo?, nil): return "at least \(number(lo))\(u)"
        case let (nil, hi?): return "at most \(number(hi))\(u)"
        default: return nil
        }
    }

    /// A clock offset in ms as whole minutes, rounded, never negative.
    public static func offsetMinutes(_ offsetMs: Int64) -> Int {
        Int((Double(abs(offsetMs)) / 60_000).rounded())
    }
}
