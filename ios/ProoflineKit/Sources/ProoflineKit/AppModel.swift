// The app's root state: enrolled or not, the view models of the tabs, and where a tapped
// notification leads. Built by the SwiftUI app at launch; Foundation only.

import Foundation

@MainActor
public final class AppModel: ViewModel {
    public enum Phase: Equatable {
        case starting
        case enroll
        case ready
    }

    public private(set) var phase: Phase = .starting { didSet { changed() } }
    public private(set) var session: ProoflineSession?
    public private(set) var attention: AttentionViewModel?
    public private(set) var review: ReviewViewModel?
    public private(set) var syncStatus: SyncViewModel?
    public private(set) var coordinator: SyncCoordinator?
    public private(set) var enroll: EnrollViewModel
    /// A check to open (a tapped notification or push); the UI clears it once shown.
    public var openCheck: Uuid? { didSet { changed() } }
    public private(set) var error: ShownError? { didSet { changed() } }

    public let dir: String
    private let clock: Clock
    private let secrets: SecretStore

    /// `dir`: the device folder; `secrets`: the Keychain on the phone.
    public init(dir: String, secrets: SecretStore, defaultServer: String = "", deviceName: String = "",
                clock: @escaping Clock = systemClock)
    {
        self.dir = dir
        self.clock = clock
        self.secrets = secrets
        self.enroll = EnrollViewModel(dir: dir, server: defaultServer, deviceName: deviceName, clock: clock)
    }

    /// Opens the device folder (every launch): ready, or enroll when none is set up.
    public func start() async {
        do {
            if let session = try await ProoflineSession.open(dir: dir, clock: clock) {
                adopt(session)
            } else {
                phase = .enroll
            }
        } catch {
            self.error = ShownError(error)
            phase = .enroll
        }
    }

    /// "Join site".
    public func join() async {
        if let session = await enroll.join() { adopt(session) }
    }

    public var push: PushRegistration? {
        session.map { PushRegistration(session: $0, store: secrets) }
    }

    /// Whether the Review tab is shown (supervisor, lead or admin somewhere).
    public var showsReview: Bool { !(session?.reviewSites.isEmpty ?? true) }

    /// A tapped notification: open its check.
    public func handleNotification(_ userInfo: [AnyHashable: Any]) {
        if let occurrence = PushRoute.occurrence(from: userInfo) { openCheck = occurrence }
    }

    /// A view model for the check screen.
    public func check(_ occurrence: Uuid) -> CheckViewModel? {
        session.map { CheckViewModel(session: $0, occurrence: occurrence) }
    }

    /// Refreshes every tab from the store (after a sync, on foreground).
    public func refresh() async {
        await attention?.load()
        await syncStatus?.load()
        if showsReview { await review?.load() }
    }

    /// A background refresh (BGTaskScheduler): sync, reschedule, refresh.
    public func backgroundRefresh() async -> Bool {
        guard let coordinator = coordinator else { return false }
        let ok = await coordinator.sync()
        await refresh()
        return ok
    }

    private func adopt(_ session: ProoflineSession) {
        self.session = session
        attention = AttentionViewModel(session: session)
        review = ReviewViewModel(session: session)
        syncStatus = SyncViewModel(session: session)
        coordinator = SyncCoordinator(session: session, push: PushRegistration(session: session, store: secrets))
        error = nil
        phase = .ready
    }
}
