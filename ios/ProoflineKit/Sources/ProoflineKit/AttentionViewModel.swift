// Attention (the "Today" tab): only what needs action, most urgent first — the core's
// attention feed in the core's order and words — then today's checks. Empty feed: "All
// checks on track".

import Foundation

/// One row of the attention feed.
public struct AttentionRow: Identifiable, Equatable {
    /// Stable per item: the alert, else the occurrence, else the routine.
    public let id: String
    public let item: AttentionItem
    /// The core's sentence ("Opening checks at Harbor Kitchen is due now…").
    public var message: String { item.message }
    /// The due time in the site's zone ("07:00"), for all but repeat failures.
    public let localDue: String?
    /// "20 min overdue", "due now", "due 5 min ago"… for all but repeat failures.
    public let dueText: String?
    /// The check this row opens (escalations and due checks have one).
    public var occurrence: Uuid? { item.occurrence }
    /// The badge: "Overdue", "Due now", "Escalation", "Repeat failure".
    public let kindText: String
    /// An escalation level that reached me and is not acknowledged yet: "Acknowledge".
    public var escalationToAcknowledge: Uuid? {
        guard let escalation = item.escalation, !escalation.acknowledged else { return nil }
        return escalation.id
    }
    /// "Not yet confirmed by the server": an escalation computed on this phone alone.
    public var unconfirmedText: String? {
        guard let escalation = item.escalation, !escalation.confirmedByServer else { return nil }
        return Copy.notYetConfirmed
    }
    /// What VoiceOver reads for the whole row.
    public var spoken: String {
        [kindText, message, dueText].compactMap { $0 }.joined(separator: ". ")
    }
}

/// One of my checks today that is not in the feed (later, or done): "Later today".
public struct AgendaRow: Identifiable, Equatable {
    public var id: Uuid { item.occurrence.id }
    public let item: AgendaItem
    public var title: String { item.routineTitle }
    /// "07:00" in the site's zone.
    public let localDue: String
    /// "due in 50 min", or "Done on time · Maria Lopez 07:10".
    public let statusText: String
    /// "covering for Maria Lopez (annual leave)", from the core.
    public var note: String? { item.assignmentNote }
    public var isResolved: Bool { ProoflineKit.isResolved(item.status) }
}

@MainActor
public final class AttentionViewModel: ViewModel {
    public private(set) var rows: [AttentionRow] = [] { didSet { changed() } }
    public private(set) var agenda: [AgendaRow] = [] { didSet { changed() } }
    public private(set) var error: ShownError? { didSet { changed() } }
    public private(set) var isLoading = false { didSet { changed() } }
    public private(set) var loadedAt: Date?

    private let session: ProoflineSession
    private let locale: Locale

    public init(session: ProoflineSession, locale: Locale = .current) {
        self.session = session
        self.locale = locale
    }

    /// The empty state: nothing needs me.
    public var isAllOnTrack: Bool { rows.isEmpty && error == nil && loadedAt != nil }
    public var emptyText: String { Copy.allChecksOnTrack }

    /// Reads the feed and today's checks at the session's clock (offline: from the store).
    public func load() async {
        isLoading = true
        defer { isLoading = false }
        let now = session.clock()
        do {
            let (feed, today) = try await session.run { device in
                (try device.attention(now: now), try device.today(now: now))
            }
            rows = feed.enumerated().map { index, item in
                let time = session.siteTime(item.site, locale: locale)
                let id = item.alert?.uuidString ?? item.occurrence?.uuidString
                    ?? "\(item.routine.uuidString)-\(index)"
                var dueText: String?
                if let due = item.due, let status = item.status {
                    dueText = Formats.dueText(status, due: due, now: now)
                }
                return AttentionRow(
                    id: id, item: item, localDue: item.due.map { time.time($0) }, dueText: dueText,
                    kindText: kindText(item.kind))
            }
            let inFeed = Set(feed.compactMap(\.occurrence))
            agenda = today.filter { !inFeed.contains($0.occurrence.id) }.map { item in
                let time = SiteTime(zone: item.timeZone, locale: locale)
                var statusText = Formats.dueText(item.status, due: item.occurrence.due, now: now)
                if ProoflineKit.isResolved(item.status), let resolution = item.resolution {
                    statusText = "\(ProoflineKit.statusText(item.status)) · \(resolution.byName) \(time.localText(resolution.localAt, now: resolution.at))"
                }
                return AgendaRow(item: item, localDue: time.time(item.occurrence.due), statusText: statusText)
            }
            error = nil
            loadedAt = now
        } catch {
            self.error = ShownError(error)
        }
    }

    /// Acknowledges an escalation that reached me (silences re-notification of that level;
    /// only a completion or an excuse ends the chain).
    public func acknowledge(_ escalation: Uuid) async {
        let now = session.clock()
        do {
            _ = try await session.run { try $0.acknowledge(escalation: escalation, now: now) }
            await load()
        } catch {
            self.error = ShownError(error)
        }
    }

    private func kindText(_ kind: AttentionKind) -> String {
        switch kind {
        case .overdue: return "Overdue"
        case .dueNow: return "Due now"
        case .escalation: return "Escalation"
        case .repeatFailure: return "Repeat failure"
        }
    }
}
