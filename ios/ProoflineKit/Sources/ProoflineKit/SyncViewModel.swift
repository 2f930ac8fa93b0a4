// Sync: "Waiting to sync" (events), "Photos waiting", "Last synced", the clock-skew warning,
// rejected events with the server's reason, and "Sync now". Sync itself is the core's:
// network trouble lands in the report, nothing is lost, the next sync resumes.

import Foundation

public struct SyncRow: Identifiable, Equatable, Sendable {
    public var id: String { label }
    public let label: String
    public let value: String
}

@MainActor
public final class SyncViewModel: ViewModel {
    public private(set) var status: SyncStatus? { didSet { changed() } }
    public private(set) var lastReport: SyncReport? { didSet { changed() } }
    /// Events the server refused, with its reason.
    public private(set) var rejected: [OutboxEntry] = [] { didSet { changed() } }
    public private(set) var isSyncing = false { didSet { changed() } }
    public private(set) var error: ShownError? { didSet { changed() } }

    private let session: ProoflineSession
    private let locale: Locale

    public init(session: ProoflineSession, locale: Locale = .current) {
        self.session = session
        self.locale = locale
    }

    /// Times in the zone of this person's first site.
    private var siteTime: SiteTime {
        let site = session.identity.sites.first
        return site.map { session.siteTime($0, locale: locale) }
            ?? SiteTime(zone: TimeZone.current.identifier, locale: locale)
    }

    public var rows: [SyncRow] {
        guard let status = status else { return [] }
        let last = status.lastSyncAt.map { siteTime.ago($0, now: session.clock()) } ?? Copy.never
        return [
            SyncRow(label: Copy.waitingToSync, value: "\(status.pendingEvents)"),
            SyncRow(label: Copy.photosWaiting, value: "\(status.pendingUploads)"),
            SyncRow(label: Copy.lastSynced, value: last),
        ]
    }

    /// "This phone's clock is off by N min — completions may be flagged", when the core
    /// says the offset is beyond what it accepts.
    public var clockWarning: String? {
        guard let status = status, status.clockSkewWarning else { return nil }
        return Copy.clockSkew(minutes: Formats.offsetMinutes(status.lastClockOffsetMs ?? 0))
    }

    /// The last sync's trouble, the core's words.
    public var lastError: String? {
        if let errors = lastReport?.errors, !errors.isEmpty { return errors.joined(separator: "\n") }
        return status?.lastError
    }

    /// Whether there is something the server has not got yet.
    public var hasPending: Bool {
        guard let status = status else { return false }
        return status.pendingEvents > 0 || status.pendingUploads > 0
    }

    public func load() async {
        do {
            let (status, outbox) = try await session.run { device in
                (try device.syncStatus(), try device.outbox())
            }
            self.status = status
            rejected = outbox.filter {
                if case .rejected = $0.state { return true }
                return false
            }
            error = nil
        } catch {
            self.error = ShownError(error)
        }
    }

    /// "Sync now" (also run by the app when the network comes back, and in the background).
    /// The report, or nil when the call failed (`error`).
    @discardableResult
    public func sync() async -> SyncReport? {
        guard !isSyncing else { return nil }
        isSyncing = true
        defer { isSyncing = false }
        do {
            let report = try await session.sync()
            lastReport = report
            error = nil
            await load()
            return report
        } catch {
            self.error = ShownError(error)
            await load()
            return nil
        }
    }

    /// The server's reason for a rejected event.
    public static func reason(_ entry: OutboxEntry) -> String? {
        if case let .rejected(reason) = entry.state { return reason }
        return nil
    }
}
