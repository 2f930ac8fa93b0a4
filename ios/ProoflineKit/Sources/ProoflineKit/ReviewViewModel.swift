// Review, for supervisors and leads (works offline, from the store): missed and late checks
// of a site by day, compliance per routine and per person, proof thumbnails (through the
// check screen), "Excuse" with a "Reason", and "Record absence". Who may do what is the
// core's decision (`NotAllowed`, shown verbatim).

import Foundation

/// Missed and late checks of one site-local day.
public struct MissedDay: Identifiable, Equatable {
    public var id: String { day }
    /// "2026-12-09".
    public let day: String
    /// "Wed 9 Dec".
    public let title: String
    public let items: [MissedRow]
}

public struct MissedRow: Identifiable, Equatable {
    public var id: Uuid { item.occurrence.id }
    public let item: MissedItem
    /// "07:00" in the site's zone.
    public let localDue: String
    /// "Missed", or "Done late · 40 min late · by Maria Lopez" (the core's fields).
    public var outcome: String {
        if item.status == .missed { return statusText(item.status) }
        return [statusText(item.status), item.lateByText.map { "\($0) late" }, item.doneByName.map { "by \($0)" }]
            .compactMap { $0 }.joined(separator: " · ")
    }
    public var assignee: String { item.assigneeName }
    /// A missed check (not done) can be excused.
    public var canExcuse: Bool { item.status == .missed }
}

/// A proof photo of a completion, with its thumbnail (JPEG) when this phone holds it.
public struct ProofPhoto: Identifiable, Equatable, Sendable {
    public var id: String { sha256 }
    public let sha256: String
    /// The photo step it answers.
    public let step: String
    /// Nil: "Pending upload" (the thumbnail has not reached this phone yet).
    public let jpeg: Data?
}

/// One compliance row (routine or person).
public struct ComplianceRow: Identifiable, Equatable {
    public let id: Uuid
    public let name: String
    public let counts: ComplianceCounts
    /// "92 %" on time, or "—" when nothing was final yet.
    public var percentText: String { Formats.percent(counts.onTimePercent) }
    /// "11 on time · 1 late · 0 missed · 0 excused".
    public var countsText: String {
        "\(counts.onTime) on time · \(counts.late) late · \(counts.missed) missed · \(counts.excused) excused"
    }
}

@MainActor
public final class ReviewViewModel: ViewModel {
    public private(set) var sites: [Site] = [] { didSet { changed() } }
    public var site: Site? { didSet { changed() } }
    /// The period: the last `days` site-local days, today included.
    public var days = 7 { didSet { changed() } }
    public private(set) var missed: [MissedDay] = [] { didSet { changed() } }
    public private(set) var compliance: ComplianceReport? { didSet { changed() } }
    public private(set) var routines: [ComplianceRow] = [] { didSet { changed() } }
    public private(set) var people: [ComplianceRow] = [] { didSet { changed() } }
    /// The site's totals.
    public private(set) var totals: ComplianceRow? { didSet { changed() } }
    /// "Thu 3 Dec – Wed 9 Dec" in the site's zone.
    public private(set) var periodText = "" { didSet { changed() } }
    public private(set) var error: ShownError? { didSet { changed() } }
    public private(set) var isWorking = false { didSet { changed() } }
    /// A sentence after an action succeeded ("Excused: …").
    public private(set) var confirmation: String? { didSet { changed() } }

    private let session: ProoflineSession
    private let locale: Locale

    public init(session: ProoflineSession, locale: Locale = .current) {
        self.session = session
        self.locale = locale
    }

    /// Whether this phone's person reviews anywhere (the Review tab is shown).
    public var isAvailable: Bool { !session.reviewSites.isEmpty }

    public var siteTime: SiteTime {
        SiteTime(zone: site?.timeZone ?? TimeZone.current.identifier, locale: locale)
    }

    /// The site's people (for "Record absence").
    public var sitePeople: [Person] {
        guard let site = site else { return [] }
        return session.org.people.filter { person in person.roles.contains { $0.site == site.id } }
    }

    public func load() async {
        sites = session.reviewSites
        if site == nil || !sites.contains(where: { $0.id == site?.id }) { site = sites.first }
        guard let current = site else { return }
        let now = session.clock()
        let time = siteTime
        let period = time.lastDays(days, now: now)
        isWorking = true
        defer { isWorking = false }
        do {
            let (items, report) = try await session.run { device in
                (
                    try device.missed(site: current.id, from: period.from, until: period.until, now: now),
                    try device.compliance(site: current.id, from: period.from, until: period.until, now: now)
                )
            }
            // By site-local day, newest first; within a day in the core's order.
            var byDay: [String: [MissedRow]] = [:]
            for item in items {
                byDay[SiteTime.dayKey(item.localDue), default: []].append(
                    MissedRow(item: item, localDue: String(item.localDue.dropFirst(11).prefix(5))))
            }
            missed = byDay.keys.sorted(by: >).map { day in
                MissedDay(day: day, title: time.dayTitle(day), items: byDay[day] ?? [])
            }
            compliance = report
            periodText = "\(time.day(period.from)) – \(time.day(period.until.addingTimeInterval(-1)))"
            totals = ComplianceRow(id: report.site, name: report.siteName, counts: report.totals)
            routines = report.routines.map {
                ComplianceRow(id: $0.routine, name: $0.routineTitle, counts: $0.counts)
            }
            people = report.people.map { ComplianceRow(id: $0.person, name: $0.name, counts: $0.counts) }
            error = nil
        } catch {
            self.error = ShownError(error)
        }
    }

    /// "Excuse" with a "Reason": ends the escalation chain of that check.
    @discardableResult
    public func excuse(_ occurrence: Uuid, reason: String) async -> Bool {
        let now = session.clock()
        do {
            let excuse = try await session.run { try $0.excuse(occurrence: occurrence, reason: reason, now: now) }
            confirmation = "\(Copy.excuse): \(excuse.reason)"
            await load()
            return true
        } catch {
            self.error = ShownError(error)
            return false
        }
    }

    /// The proof photos of the completion that counts for a check (else of every
    /// completion), by hash, with the thumbnail when this phone holds it ("Pending upload"
    /// while it has not reached the phone).
    public func proof(_ occurrence: Uuid) async -> [ProofPhoto] {
        let now = session.clock()
        do {
            return try await session.run { device in
                let detail = try device.occurrence(occurrence: occurrence, now: now)
                let counting = detail.completions.filter(\.counts)
                var seen = Set<String>()
                var out: [ProofPhoto] = []
                for completion in counting.isEmpty ? detail.completions : counting {
                    for result in completion.results {
                        guard case let .photos(hashes) = result.answer else { continue }
                        for sha in hashes where seen.insert(sha).inserted {
                            out.append(ProofPhoto(sha256: sha, step: result.step, jpeg: try device.thumbnail(photoSha256: sha)))
                        }
                    }
                }
                return out
            }
        } catch {
            self.error = ShownError(error)
            return []
        }
    }

    /// "Record absence" for whole site-local days: `person` is away from the start of
    /// `firstDay` to the end of `lastDay` (days in the site's zone).
    @discardableResult
    public func recordAbsence(person: Uuid, firstDay: Date, lastDay: Date, reason: String) async -> Bool {
        let time = siteTime
        let from = time.startOfDay(firstDay)
        let until = time.lastDays(1, now: lastDay).until
        return await recordAbsence(person: person, from: from, until: until, reason: reason)
    }

    /// "Record absence": `person` is away in `[from, until)`; their checks go to the backup.
    @discardableResult
    public func recordAbsence(person: Uuid, from: Date, until: Date, reason: String) async -> Bool {
        let now = session.clock()
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            _ = try await session.run {
                try $0.recordAbsence(person: person, from: from, until: until, reason: reason.isEmpty ? nil : reason, now: now)
            }
            let name = session.org.people.first { $0.id == person }?.name ?? ""
            let time = siteTime
            confirmation = "\(Copy.recordAbsence): \(name), \(time.dueText(from, now: now)) – \(time.dueText(until, now: now))"
            await load()
            return true
        } catch {
            self.error = ShownError(error)
            return false
        }
    }

    public func clearMessages() {
        error = nil
        confirmation = nil
    }
}
