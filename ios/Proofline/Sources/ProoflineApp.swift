// The app's entry point: the device folder, the Keychain, background refresh, push and
// local notifications, the network path. Screens are in the other files; every decision
// comes from the core through ProoflineKit.

import BackgroundTasks
import ProoflineKit
import SwiftUI
import UIKit
import UserNotifications

@main
struct ProoflineApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var delegate
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            RootView(model: delegate.model, network: delegate.network, onReady: { await delegate.ready() })
                .task { await delegate.launch() }
        }
        .onChange(of: scenePhase) { phase in
            if phase == .active {
                Task { await delegate.foreground() }
            } else if phase == .background {
                BackgroundSync.schedule()
            }
        }
    }
}

/// Owns the app model and the platform services; receives the APNs token and taps.
@MainActor
final class AppDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    let model: Observed<AppModel>
    let network = NetworkMonitor()
    private let notifications = NotificationScheduler()
    private var launched = false

    override init() {
        let support = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        let dir = support.appendingPathComponent("proofline", isDirectory: true).path
        let server = Bundle.main.object(forInfoDictionaryKey: "ProoflineDefaultServer") as? String ?? ""
        model = Observed(AppModel(
            dir: dir, secrets: KeychainStore(service: "app.proofline.ios"),
            defaultServer: server, deviceName: UIDevice.current.name))
        super.init()
    }

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        UNUserNotificationCenter.current().delegate = self
        BackgroundSync.register { [weak self] in
            await self?.model.value.backgroundRefresh() ?? false
        }
        return true
    }

    /// Opens the device folder, then wires sync, notifications and push.
    func launch() async {
        guard !launched else { return }
        launched = true
        await model.value.start()
        await ready()
    }

    /// After enrolling (or at launch when enrolled): sync, reminders, push registration.
    func ready() async {
        guard model.value.phase == .ready, let coordinator = model.value.coordinator else { return }
        coordinator.scheduleReminders = { [notifications] plan in notifications.replace(with: plan) }
        network.onChange = { online in
            Task { @MainActor in
                await coordinator.pathChanged(isOnline: online)
                await self.model.value.refresh()
            }
        }
        network.start()
        await notifications.requestAuthorization()
        UIApplication.shared.registerForRemoteNotifications()
        BackgroundSync.schedule()
        // Uploads and events waiting in the core's outbox from an earlier run go out now.
        await coordinator.sync()
        await model.value.refresh()
    }

    func foreground() async {
        guard model.value.phase == .ready else { return }
        await model.value.coordinator?.sync()
        await model.value.refresh()
    }

    // MARK: APNs

    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        Task { _ = await model.value.push?.register(token: deviceToken) }
    }

    func application(_ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: Error) {
        // No push on this phone (simulator, no entitlement): local reminders still work.
    }

    func application(
        _ application: UIApplication, didReceiveRemoteNotification userInfo: [AnyHashable: Any]
    ) async -> UIBackgroundFetchResult {
        // An escalation alert arrived: fetch the events behind it so the check is current.
        let ok = await model.value.backgroundRefresh()
        return ok ? .newData : .failed
    }

    // MARK: notification taps and foreground presentation

    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter, didReceive response: UNNotificationResponse
    ) async {
        let userInfo = response.notification.request.content.userInfo
        await MainActor.run { model.value.handleNotification(userInfo) }
    }

    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter, willPresent notification: UNNotification
    ) async -> UNNotificationPresentationOptions {
        [.banner, .sound, .list]
    }
}
