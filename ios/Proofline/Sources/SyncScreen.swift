// Sync: "Waiting to sync", "Photos waiting", "Last synced", the clock-skew warning, events
// the server rejected (with its reason), and "Sync now".

import ProoflineKit
import SwiftUI

struct SyncScreen: View {
    @ObservedObject var model: Observed<SyncViewModel>
    @ObservedObject var coordinator: Observed<SyncCoordinator>

    private var vm: SyncViewModel { model.value }

    var body: some View {
        List {
            if let warning = vm.clockWarning {
                Section {
                    Label(warning, systemImage: "clock.badge.exclamationmark")
                        .foregroundColor(.orange)
                        .fixedSize(horizontal: false, vertical: true)
                }
            }
            Section {
                ForEach(vm.rows) { row in
                    HStack {
                        Text(row.label)
                        Spacer()
                        Text(row.value).font(.headline.monospacedDigit())
                    }
                    .fieldTapTarget()
                    .accessibilityElement(children: .combine)
                    .accessibilityLabel("\(row.label): \(row.value)")
                }
            } header: {
                Text(vm.status?.server ?? "")
            }
            if let error = vm.error {
                Section { ErrorText(error: error) }
            }
            if let lastError = vm.lastError {
                Section {
                    Text(lastError).font(.callout).foregroundColor(.red)
                }
            }
            if !vm.rejected.isEmpty {
                Section {
                    ForEach(vm.rejected, id: \.event) { entry in
                        VStack(alignment: .leading) {
                            Text(entry.kind).font(.subheadline.weight(.semibold))
                            Text(SyncViewModel.reason(entry) ?? "").font(.footnote)
                        }
                        .accessibilityElement(children: .combine)
                    }
                } header: {
                    Text("Rejected")
                }
            }
            Section {
                Button {
                    Task {
                        await coordinator.value.sync()
                        await vm.load()
                    }
                } label: {
                    HStack {
                        Spacer()
                        if vm.isSyncing { ProgressView() } else { Text(Copy.syncNow).font(.headline) }
                        Spacer()
                    }
                    .fieldTapTarget()
                }
                .disabled(vm.isSyncing)
            }
        }
        .listStyle(.insetGrouped)
        .navigationTitle(Copy.sync)
        .refreshable { await vm.load() }
        .task { await vm.load() }
    }
}
