// Attention (the "Today" tab): the core's attention feed, most urgent first, then today's
// checks; "All checks on track" when nothing needs me. Due times in the site's zone.

import ProoflineKit
import SwiftUI

struct AttentionScreen: View {
    @ObservedObject var model: Observed<AttentionViewModel>
    @ObservedObject var app: Observed<AppModel>

    private var vm: AttentionViewModel { model.value }

    var body: some View {
        List {
            if let error = vm.error {
                Section { ErrorText(error: error) }
            }

            Section {
                if vm.isAllOnTrack {
                    Label(vm.emptyText, systemImage: "checkmark.seal.fill")
                        .font(.title3.weight(.semibold))
                        .foregroundColor(.green)
                        .fieldTapTarget()
                        .accessibilityLabel(vm.emptyText)
                } else {
                    ForEach(vm.rows) { row in
                        AttentionRowView(row: row, app: app) { escalation in
                            Task { await vm.acknowledge(escalation) }
                        }
                    }
                }
            } header: {
                Text(Copy.attention)
            }

            if !vm.agenda.isEmpty {
                Section {
                    ForEach(vm.agenda) { row in
                        NavigationLink {
                            CheckDestination(app: app, occurrence: row.id)
                        } label: {
                            AgendaRowView(row: row)
                        }
                    }
                } header: {
                    Text(Copy.laterToday)
                }
            }
        }
        .listStyle(.insetGrouped)
        .navigationTitle(Copy.todayTab)
        .refreshable {
            await app.value.coordinator?.sync()
            await vm.load()
        }
        .task { await vm.load() }
    }
}

private struct AttentionRowView: View {
    let row: AttentionRow
    @ObservedObject var app: Observed<AppModel>
    let acknowledge: (UUID) -> Void

    var body: some View {
        VStack(alignment: .leading, spacing: 8) {
            HStack {
                Text(row.kindText.uppercased())
                    .font(.caption.weight(.bold))
                    .padding(.horizontal, 8)
                    .padding(.vertical, 4)
                    .background(badgeColor.opacity(0.2))
                    .foregroundColor(badgeColor)
                    .clipShape(Capsule())
                Spacer()
                if let due = row.localDue {
                    Text(due).font(.headline.monospacedDigit())
                }
            }
            if let dueText = row.dueText {
                Text(dueText).font(.subheadline.weight(.semibold))
            }
            Text(row.message)
                .font(.body)
                .fixedSize(horizontal: false, vertical: true)
            if let unconfirmed = row.unconfirmedText {
                Text(unconfirmed).font(.footnote).foregroundColor(.secondary)
            }
            HStack {
                if let occurrence = row.occurrence {
                    NavigationLink {
                        CheckDestination(app: app, occurrence: occurrence)
                    } label: {
                        Text(Copy.check).font(.headline).fieldTapTarget()
                    }
                }
                if let escalation = row.escalationToAcknowledge {
                    Button(Copy.acknowledge) { acknowledge(escalation) }
                        .buttonStyle(.bordered)
                        .fieldTapTarget()
                }
            }
        }
        .padding(.vertical, 6)
        .accessibilityElement(children: .contain)
        .accessibilityLabel(row.spoken)
    }

    private var badgeColor: Color {
        switch row.item.kind {
        case .overdue: return .red
        case .escalation: return .orange
        case .dueNow: return .blue
        case .repeatFailure: return .purple
        }
    }
}

private struct AgendaRowView: View {
    let row: AgendaRow

    var body: some View {
        HStack(alignment: .firstTextBaseline) {
            Text(row.localDue)
                .font(.headline.monospacedDigit())
                .frame(minWidth: 64, alignment: .leading)
            VStack(alignment: .leading, spacing: 4) {
                Text(row.title).font(.body)
                if let note = row.note {
                    Text(note).font(.footnote).foregroundColor(.secondary)
                }
            }
            Spacer()
            Text(row.statusText)
                .font(.subheadline.weight(.semibold))
                .foregroundColor(row.isResolved ? .green : .primary)
        }
        .fieldTapTarget()
        .accessibilityElement(children: .combine)
        .accessibilityLabel("\(row.title), \(row.localDue), \(row.statusText)")
    }
}

/// The check screen for an occurrence, built from the app model.
struct CheckDestination: View {
    @ObservedObject var app: Observed<AppModel>
    let occurrence: UUID

    var body: some View {
        if let check = app.value.check(occurrence) {
            CheckScreen(model: Observed(check), onDone: { Task { await app.value.refresh() } })
        }
    }
}
