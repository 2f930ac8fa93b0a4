// What the app's background pieces need from the core, without UIKit: local notifications
// from the core's reminders, the APNs token sent to the server (and kept in the Keychain),
// escalation pushes routed to their check, and syncing when the network path comes back.
// The app target adapts these to UNUserNotificationCenter, BGTaskScheduler, NWPathMonitor
// and the Keychain.

import Foundation

/// A local notification to schedule (the app turns it into a `UNNotificationRequest`).
public struct LocalNotification: Identifiable, Equatable, Sendable {
    /// Stable across reschedules (the core's reminder id): scheduling again replaces.
    public let id: String
    public let fireAt: Date
    public let title: String
    public let body: String
    /// The check a tap opens.
    public let occurrence: Uuid
    /// Notifications of one site are grouped.
    public let threadId: String

    /// What a tap needs to know (`PushRoute` reads it back).
    public var userInfo: [String: String] {
        ["occurrence_id": occurrence.uuidString, "site_id": threadId]
    }
}

public enum ReminderPlanner {
    /// How far ahead the app schedules (iOS keeps at most 64 pending notifications).
    public static let horizon: TimeInterval = 12 * 3600
    public static let limit = 60

    /// The core's reminders for `[now, now + horizon)` as notifications, in firing order.
    public static func plan(_ session: ProoflineSession, horizon: TimeInterval = horizon) async throws
        -> [LocalNotification]
    {
        let now = session.clock()
        let reminders = try await session.run { try $0.upcomingReminders(now: now, horizon: horizon) }
        return reminders.prefix(limit).map { reminder in
            LocalNotification(
                id: reminder.id.uuidString, fireAt: reminder.fireAt, title: reminder.title,
                body: reminder.body, occurrence: reminder.occurrence,
                threadId: reminder.site.uuidString)
        }
    }
}

/// Where a tapped notification (an escalation push from the server, or a local reminder)
/// leads: the check it names.
public enum PushRoute {
    /// The occurrence in an APNs payload (`occurrence_id`, as the server sends it) or a local
    /// notification's user info.
    public static func occurrence(from userInfo: [AnyHashable: Any]) -> Uuid? {
        guard let text = userInfo["occurrence_id"] as? String else { return nil }
        return UUID(uuidString: text)
    }

    /// The escalation level a push is about (to acknowledge from the check screen).
    public static func escalation(from userInfo: [AnyHashable: Any]) -> Uuid? {
        guard let text = userInfo["escalation_id"] as? String else { return nil }
        return UUID(uuidString: text)
    }
}

/// Small secrets kept by the platform (the Keychain on iOS).
public protocol SecretStore: AnyObject, Sendable {
    func read(_ key: String) -> String?
    func write(_ key: String, _ value: String?)
}

/// A SecretStore in memory (tests, previews).
public final class MemorySecretStore: SecretStore, @unchecked Sendable {
    private var values: [String: String] = [:]
    private let lock = NSLock()
    public init() {}
    public func read(_ key: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }
    public func write(_ key: String, _ value: String?) {
        lock.lock()
        defer { lock.unlock() }
        values[key] = value
    }
}

/// Sends the APNs device token to the server (`registerPushToken("apns", hex)`) so
/// escalation alerts reach this phone, and keeps it in the SecretStore: it is sent again
/// only when it changes or the server changes, and retried after an offline failure.
public final class PushRegistration: @unchecked Sendable {
    public static let tokenKey = "apns-device-token"
    public static let registeredKey = "apns-device-token-registered-with"

    private let session: ProoflineSession
    private let store: SecretStore

    public init(session: ProoflineSession, store: SecretStore) {
        self.session = session
        self.store = store
    }

    /// Lowercase hex, as APNs tokens are written.
    public static func hex(_ token: Data) -> String {
        token.map { String(format: "%02x", $0) }.joined()
    }

    /// The token the phone last got from APNs.
    public var token: String? { store.read(Self.tokenKey) }

    /// Called with the token from `didRegisterForRemoteNotificationsWithDeviceToken`.
    /// Nil when registered (or already was), else the core's message.
    public func register(token: Data) async -> ShownError? {
        store.write(Self.tokenKey, Self.hex(token))
        return await registerIfNeeded()
    }

    /// Sends the stored token if the server has not got it (after launch, when back online).
    public func registerIfNeeded() async -> ShownError? {
        guard let token = store.read(Self.tokenKey) else { return nil }
        let server = (try? await session.run { try $0.syncStatus().server }) ?? nil
        let target = "\(server ?? "") \(token)"
        if store.read(Self.registeredKey) == target { return nil }
        do {
            try await session.run { try $0.registerPushToken(platform: "apns", token: token) }
            store.write(Self.registeredKey, target)
            return nil
        } catch {
            return ShownError(error)
        }
    }
}

/// Keeps the phone in step with the server: sync when the network path comes back, from
/// the background refresh and on demand; then reschedules the reminders and re-sends the
/// push token if needed. Only one sync runs at a time.
@MainActor
public final class SyncCoordinator: ViewModel {
    public private(set) var isOnline = true { didSet { changed() } }
    public private(set) var lastReport: SyncReport? { didSet { changed() } }
    public private(set) var lastError: ShownError? { didSet { changed() } }
    private var running = false

    private let session: ProoflineSession
    private let push: PushRegistration?
    /// The app schedules these (replacing what it scheduled before).
    public var scheduleReminders: (([LocalNotification]) -> Void)?

    public init(session: ProoflineSession, push: PushRegistration? = nil) {
        self.session = session
        self.push = push
    }

    /// The offline banner shows when the path is down or the last sync could not reach the
    /// server.
    public var showsOfflineBanner: Bool {
        !isOnline || lastError?.isOffline == true
            || (lastReport.map { !$0.complete && !$0.errors.isEmpty } ?? false)
    }

    public var offlineText: String { Copy.offlineBanner }

    /// NWPathMonitor's verdict. Coming back online syncs.
    public func pathChanged(isOnline online: Bool) async {
        let cameBack = online && !isOnline
        isOnline = online
        if cameBack { await sync() }
    }

    /// Syncs (uploads survive relaunch: they wait in the core's outbox), then reschedules
    /// reminders. True when the sync completed.
    @discardableResult
    public func sync() async -> Bool {
        guard !running else { return false }
        running = true
        defer { running = false }
        do {
            let report = try await session.sync()
            lastReport = report
            lastError = nil
            if report.complete, let push = push { _ = await push.registerIfNeeded() }
        } catch {
            lastError = ShownError(error)
        }
        await reschedule()
        return lastReport?.complete == true && lastError == nil
    }

    /// Recomputes the local notifications from the store (works offline).
    public func reschedule() async {
        guard let schedule = scheduleReminders else { return }
        if let plan = try? await ReminderPlanner.plan(session) { schedule(plan) }
    }
}
