// Enroll until the phone is enrolled; then the tabs: Today (Attention), Review (supervisors
// and leads), Sync. The offline banner sits above every tab; a tapped notification opens its
// check.

import ProoflineKit
import SwiftUI

struct RootView: View {
    @ObservedObject var model: Observed<AppModel>
    @ObservedObject var network: NetworkMonitor
    let onReady: () async -> Void

    var body: some View {
        switch model.value.phase {
        case .starting:
            ProgressView()
                .accessibilityLabel("Opening Proofline")
        case .enroll:
            EnrollScreen(model: Observed(model.value.enroll)) {
                await model.value.join()
                await onReady()
            }
        case .ready:
            if let attention = model.value.attention, let sync = model.value.syncStatus,
               let coordinator = model.value.coordinator
            {
                MainTabs(
                    app: model, attention: Observed(attention), sync: Observed(sync),
                    coordinator: Observed(coordinator), network: network)
            }
        }
    }
}

private struct MainTabs: View {
    @ObservedObject var app: Observed<AppModel>
    @StateObject var attention: Observed<AttentionViewModel>
    @StateObject var sync: Observed<SyncViewModel>
    @StateObject var coordinator: Observed<SyncCoordinator>
    @ObservedObject var network: NetworkMonitor

    private var offline: Bool { !network.isOnline || coordinator.value.showsOfflineBanner }

    var body: some View {
        VStack(spacing: 0) {
            if offline {
                OfflineBanner()
            }
            TabView {
                NavigationStack {
                    AttentionScreen(model: attention, app: app)
                }
                .tabItem { Label(Copy.todayTab, systemImage: "checklist") }

                if app.value.showsReview, let review = app.value.review {
                    NavigationStack {
                        ReviewScreen(model: Observed(review), app: app)
                    }
                    .tabItem { Label(Copy.review, systemImage: "chart.bar.doc.horizontal") }
                }

                NavigationStack {
                    SyncScreen(model: sync, coordinator: coordinator)
                }
                .tabItem { Label(Copy.sync, systemImage: "arrow.triangle.2.circlepath") }
            }
        }
        .sheet(item: Binding(
            get: { app.value.openCheck.map(OpenCheck.init) },
            set: { app.value.openCheck = $0?.id }
        )) { open in
            NavigationStack {
                CheckDestination(app: app, occurrence: open.id)
            }
        }
    }
}

/// A check opened from a notification.
private struct OpenCheck: Identifiable {
    let id: UUID
}
