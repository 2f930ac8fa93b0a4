// The platform services behind ProoflineKit's protocols: the Keychain, NWPathMonitor,
// UNUserNotificationCenter, BGTaskScheduler, and the bridge that lets SwiftUI observe the
// Foundation-only view models.

import BackgroundTasks
import Foundation
import Network
import ProoflineKit
import Security
import SwiftUI
import UserNotifications

/// Lets SwiftUI observe a ProoflineKit view model (which reports its changes to `watch`ers).
@MainActor
final class Observed<Model: ViewModel>: ObservableObject {
    let value: Model

    init(_ value: Model) {
        self.value = value
        value.watch { [weak self] in
            guard let self = self else { return false }
            self.objectWillChange.send()
            return true
        }
    }
}

/// Secrets in the Keychain (the APNs device token and where it was registered), readable
/// after the first unlock so background refresh can use them.
final class KeychainStore: SecretStore, @unchecked Sendable {
    private let service: String

    init(service: String) {
        self.service = service
    }

    private func query(_ key: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: key,
        ]
    }

    func read(_ key: String) -> String? {
        var lookup = query(key)
        lookup[kSecReturnData as String] = true
        lookup[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        guard SecItemCopyMatching(lookup as CFDictionary, &item) == errSecSuccess,
              let data = item as? Data
        else { return nil }
        return String(data: data, encoding: .utf8)
    }

    func write(_ key: String, _ value: String?) {
        SecItemDelete(query(key) as CFDictionary)
        guard let value = value else { return }
        var item = query(key)
        item[kSecValueData as String] = Data(value.utf8)
        item[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        SecItemAdd(item as CFDictionary, nil)
    }
}

/// The network path (NWPathMonitor): the offline banner, and a sync when it comes back.
@MainActor
final class NetworkMonitor: ObservableObject {
    @Published private(set) var isOnline = true
    var onChange: ((Bool) -> Void)?
    private let monitor = NWPathMonitor()
    private var started = false

    func start() {
        guard !started else { return }
        started = true
        monitor.pathUpdateHandler = { [weak self] path in
            let online = path.status == .satisfied
            Task { @MainActor in
                guard let self = self, self.isOnline != online else { return }
                self.isOnline = online
                self.onChange?(online)
            }
        }
        monitor.start(queue: DispatchQueue(label: "app.proofline.network"))
    }
}

/// Local notifications from the core's reminders: each plan replaces the previous one (the
/// ids are the core's, stable across reschedules).
final class NotificationScheduler: @unchecked Sendable {
    private let center = UNUserNotificationCenter.current()
    private static let prefix = "reminder-"

    func requestAuthorization() async {
        _ = try? await center.requestAuthorization(options: [.alert, .sound, .badge])
    }

    func replace(with plan: [LocalNotification]) {
        center.getPendingNotificationRequests { [center] pending in
            let old = pending.map(\.identifier).filter { $0.hasPrefix(Self.prefix) }
            center.removePendingNotificationRequests(withIdentifiers: old)
            for reminder in plan {
                let content = UNMutableNotificationContent()
                content.title = reminder.title
                content.body = reminder.body
                content.sound = .default
                content.threadIdentifier = reminder.threadId
                content.userInfo = reminder.userInfo
                let seconds = max(1, reminder.fireAt.timeIntervalSinceNow)
                let trigger = UNTimeIntervalNotificationTrigger(timeInterval: seconds, repeats: false)
                center.add(UNNotificationRequest(
                    identifier: Self.prefix + reminder.id, content: content, trigger: trigger))
            }
        }
    }
}

/// BGTaskScheduler: an app refresh that syncs and reschedules reminders.
enum BackgroundSync {
    static let identifier = "app.proofline.sync"

    static func register(_ work: @escaping @MainActor () async -> Bool) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            schedule()
            let job = Task { @MainActor in
                let ok = await work()
                task.setTaskCompleted(success: ok)
            }
            task.expirationHandler = { job.cancel() }
        }
    }

    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}

/// Field-ready sizes: at least 56 pt tall tap targets (gloves).
extension View {
    func fieldTapTarget() -> some View {
        frame(minHeight: 56).contentShape(Rectangle())
    }
}

/// The offline banner, shown on every tab.
struct OfflineBanner: View {
    var body: some View {
        Label(Copy.offlineBanner, systemImage: "wifi.slash")
            .font(.subheadline.weight(.semibold))
            .frame(maxWidth: .infinity, alignment: .leading)
            .padding(12)
            .background(Color.orange.opacity(0.9))
            .foregroundColor(.black)
            .accessibilityElement(children: .combine)
            .accessibilityAddTraits(.isStaticText)
    }
}

/// A core message, verbatim.
struct ErrorText: View {
    let error: ShownError

    var body: some View {
        Label(error.message, systemImage: "exclamationmark.triangle.fill")
            .font(.callout)
            .foregroundColor(.red)
            .fixedSize(horizontal: false, vertical: true)
            .accessibilityLabel("Error: \(error.message)")
    }
}
