// The app's handle on the core: one `Device` (a device folder) and the clock. Every core
// call blocks (SQLite with fsync, photo processing, the network for enroll and sync), so
// `run` moves it off the caller's thread onto a detached task; the core serialises calls on
// one Device. No domain logic lives here: statuses, assignees, validation, ordering and every
// message come from the core.

import Foundation
@_exported import ProoflineCore

/// The clock the shell passes to the core (the core reads none). Tests fix it.
public typealias Clock = @Sendable () -> Date

/// The real clock.
public let systemClock: Clock = { Date() }

/// One enrolled device and the clock, shared by the view models.
///
/// The org (sites, people, roles) and the device's identity are read once off the main thread
/// and kept here, so the screens can name ids without calling into the core on the main
/// thread (where a running sync would block them); `sync` refreshes them.
public final class ProoflineSession: @unchecked Sendable {
    public let device: Device
    public let clock: Clock
    private let lock = NSLock()
    private var cachedOrg: Org
    private var cachedIdentity: DeviceIdentity

    /// Reads the org and identity: call it off the main thread (`open` and enrolling do).
    public init(device: Device, clock: @escaping Clock = systemClock) {
        self.device = device
        self.clock = clock
        self.cachedOrg = device.org()
        self.cachedIdentity = device.identity()
    }

    /// Runs a blocking core call off the calling thread (never on the main thread).
    public func run<T>(_ call: @escaping @Sendable (Device) throws -> T) async throws -> T {
        let device = self.device
        return try await Task.detached(priority: .userInitiated) {
            try call(device)
        }.value
    }

    /// Opens the device in `dir`; nil when none is set up there yet (enroll first).
    public static func open(dir: String, clock: @escaping Clock = systemClock) async throws
        -> ProoflineSession?
    {
        do {
            return try await Task.detached(priority: .userInitiated) {
                ProoflineSession(device: try Device.open(dir: dir), clock: clock)
            }.value
        } catch ProoflineError.NotFound {
            return nil
        }
    }

    /// Syncs at the session's clock and refreshes the org and identity (a sync may bring new
    /// sites, people and roles).
    public func sync() async throws -> SyncReport {
        let now = clock()
        let (report, org, identity) = try await run { device in
            (try device.sync(now: now), device.org(), device.identity())
        }
        remember(org, identity)
        return report
    }

    private func remember(_ org: Org, _ identity: DeviceIdentity) {
        lock.lock()
        defer { lock.unlock() }
        (cachedOrg, cachedIdentity) = (org, identity)
    }

    /// Who is using this phone, and their roles per site (names and zones for ids).
    public var identity: DeviceIdentity {
        lock.lock()
        defer { lock.unlock() }
        return cachedIdentity
    }

    public var org: Org {
        lock.lock()
        defer { lock.unlock() }
        return cachedOrg
    }

    /// The person using this phone.
    public var me: Person? {
        let id = identity.person
        return org.people.first { $0.id == id }
    }

    /// The sites where this person may review (supervisor, lead or admin there): where the
    /// Review tab is offered. The core still decides every action (`NotAllowed`).
    public var reviewSites: [Site] {
        guard let me = me else { return [] }
        let ids = Set(me.roles.filter { $0.role != .staff }.map(\.site))
        return org.sites.filter { ids.contains($0.id) }
    }

    /// The site's zone for formatting due times (the phone's zone never is).
    public func siteTime(_ site: Uuid, locale: Locale = .current) -> SiteTime {
        let zone = org.sites.first { $0.id == site }?.timeZone
        return SiteTime(zone: zone ?? TimeZone.current.identifier, locale: locale)
    }
}

/// What the app does about a failed call; the message is always the core's, verbatim.
public enum ErrorAdvice: Equatable, Sendable {
    /// Show the message; the person fixes the input and tries again.
    case fixInput
    /// The person may not do this: show the message, hide or disable the action.
    case notAllowed
    /// Enroll or sync first.
    case notFound
    /// Nothing was lost: try again later.
    case retryLater
    /// The server refused this phone: enroll again with a new code.
    case enrollAgain
}

/// A failed call as the screens show it.
public struct ShownError: Equatable, Sendable, Error {
    public let message: String
    public let advice: ErrorAdvice
    /// Whether the server could not be reached (the offline banner shows).
    public let isOffline: Bool

    public init(message: String, advice: ErrorAdvice, isOffline: Bool = false) {
        self.message = message
        self.advice = advice
        self.isOffline = isOffline
    }

    public init(_ error: Error) {
        switch error {
        case let ProoflineError.ProofIncomplete(message), let ProoflineError.InvalidInput(message):
            self.init(message: message, advice: .fixInput)
        case let ProoflineError.NotAllowed(message):
            self.init(message: message, advice: .notAllowed)
        case let ProoflineError.NotFound(message):
            self.init(message: message, advice: .notFound)
        case let ProoflineError.Storage(message):
            self.init(message: message, advice: .retryLater)
        case let ProoflineError.Offline(message):
            self.init(message: message, advice: .retryLater, isOffline: true)
        case let ProoflineError.Unauthorized(message):
            self.init(message: message, advice: .enrollAgain)
        case let shown as ShownError:
            self = shown
        default:
            self.init(message: String(describing: error), advice: .retryLater)
        }
    }
}

/// Gives view models a way to tell the UI layer that their state changed, without Combine or
/// SwiftUI (the app wraps each view model in an `ObservableObject` that forwards this).
@MainActor
open class ViewModel {
    /// Called on the main actor after every state change.
    public var onChange: (() -> Void)?
    /// More observers (several views may show one view model); each returns false once it
    /// is gone, and is then dropped.
    private var watchers: [() -> Bool] = []

    public init() {}

    /// Adds an observer that lives as long as it returns true.
    public func watch(_ watcher: @escaping () -> Bool) {
        watchers.append(watcher)
    }

    /// Marks the state changed.
    public func changed() {
        onChange?()
        watchers.removeAll { !$0() }
    }
}
