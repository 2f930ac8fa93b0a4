// Review, for supervisors and leads (offline too): missed and late checks by day,
// compliance per routine and per person, proof thumbnails (the check screen), "Excuse" with
// a "Reason", and "Record absence". The core decides who may; its refusals show verbatim.

import ProoflineKit
import SwiftUI

struct ReviewScreen: View {
    @StateObject private var model: Observed<ReviewViewModel>
    @ObservedObject var app: Observed<AppModel>
    @State private var excusing: MissedRow?
    @State private var recordingAbsence = false

    init(model: @autoclosure @escaping () -> Observed<ReviewViewModel>, app: Observed<AppModel>) {
        _model = StateObject(wrappedValue: model())
        self.app = app
    }

    private var vm: ReviewViewModel { model.value }

    var body: some View {
        List {
            if vm.sites.count > 1 {
                Picker("Site", selection: Binding(
                    get: { vm.site?.id },
                    set: { id in
                        vm.site = vm.sites.first { $0.id == id }
                        Task { await vm.load() }
                    }
                )) {
                    ForEach(vm.sites, id: \.id) { site in
                        Text(site.name).tag(Optional(site.id))
                    }
                }
                .fieldTapTarget()
            }
            Picker("Period", selection: Binding(
                get: { vm.days },
                set: { days in
                    vm.days = days
                    Task { await vm.load() }
                }
            )) {
                Text("Today").tag(1)
                Text("7 days").tag(7)
                Text("30 days").tag(30)
            }
            .pickerStyle(.segmented)
            .fieldTapTarget()
            .accessibilityLabel("Review period")

            if let error = vm.error {
                Section { ErrorText(error: error) }
            }
            if let confirmation = vm.confirmation {
                Section {
                    Label(confirmation, systemImage: "checkmark.circle.fill").foregroundColor(.green)
                }
            }

            Section {
                Button {
                    recordingAbsence = true
                } label: {
                    Label(Copy.recordAbsence, systemImage: "person.crop.circle.badge.clock")
                        .fieldTapTarget()
                }
            }

            if vm.missed.isEmpty && !vm.isWorking {
                Section {
                    Label(Copy.allChecksOnTrack, systemImage: "checkmark.seal.fill")
                        .foregroundColor(.green)
                } header: {
                    Text(Copy.missedAndLate)
                }
            }
            ForEach(vm.missed) { day in
                Section {
                    ForEach(day.items) { row in
                        NavigationLink {
                            CheckDestination(app: app, occurrence: row.id)
                        } label: {
                            MissedRowView(row: row, review: vm)
                        }
                        .swipeActions {
                            if row.canExcuse {
                                Button(Copy.excuse) { excusing = row }.tint(.orange)
                            }
                        }
                        .contextMenu {
                            if row.canExcuse {
                                Button(Copy.excuse) { excusing = row }
                            }
                        }
                    }
                } header: {
                    Text("\(Copy.missedAndLate) · \(day.title)")
                }
            }

            if let totals = vm.totals {
                Section {
                    ComplianceRowView(row: totals)
                } header: {
                    Text(vm.periodText)
                }
            }
            if !vm.routines.isEmpty {
                Section {
                    ForEach(vm.routines) { ComplianceRowView(row: $0) }
                } header: {
                    Text(Copy.byRoutine)
                }
            }
            if !vm.people.isEmpty {
                Section {
                    ForEach(vm.people) { ComplianceRowView(row: $0) }
                } header: {
                    Text(Copy.byPerson)
                }
            }
        }
        .listStyle(.insetGrouped)
        .navigationTitle(Copy.review)
        .refreshable { await vm.load() }
        .task { await vm.load() }
        .sheet(item: $excusing) { row in
            ExcuseSheet(row: row) { reason in
                await vm.excuse(row.id, reason: reason)
            }
        }
        .sheet(isPresented: $recordingAbsence) {
            AbsenceSheet(people: vm.sitePeople, timeZone: vm.siteTime.timeZone) { person, firstDay, lastDay, reason in
                await vm.recordAbsence(person: person, firstDay: firstDay, lastDay: lastDay, reason: reason)
            }
        }
    }
}

private struct MissedRowView: View {
    let row: MissedRow
    let review: ReviewViewModel
    @State private var photos: [ProofPhoto]?

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(row.localDue).font(.headline.monospacedDigit())
                Text(row.item.routineTitle).font(.body)
                Spacer()
            }
            Text(row.outcome)
                .font(.subheadline.weight(.semibold))
                .foregroundColor(row.item.status == .missed ? .red : .orange)
            Text(row.assignee).font(.footnote).foregroundColor(.secondary)
            if row.item.status != .missed {
                if let photos = photos {
                    ScrollView(.horizontal) {
                        HStack {
                            ForEach(photos) { photo in
                                Thumbnail(data: photo.jpeg).frame(width: 72, height: 96)
                            }
                        }
                    }
                } else {
                    Button(Copy.proof) {
                        Task { photos = await review.proof(row.id) }
                    }
                    .buttonStyle(.bordered)
                    .fieldTapTarget()
                }
            }
        }
        .fieldTapTarget()
        .accessibilityElement(children: .contain)
        .accessibilityLabel("\(row.item.routineTitle), due \(row.localDue), \(row.outcome), \(row.assignee)")
    }
}

private struct ComplianceRowView: View {
    let row: ComplianceRow

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(row.name).font(.body)
                Spacer()
                Text(row.percentText).font(.headline.monospacedDigit())
            }
            Text(row.countsText).font(.footnote).foregroundColor(.secondary)
        }
        .fieldTapTarget()
        .accessibilityElement(children: .combine)
    }
}

/// "Excuse" with a "Reason" (the core rejects an empty one, and says so).
private struct ExcuseSheet: View {
    let row: MissedRow
    let excuse: (String) async -> Bool
    @State private var reason = ""
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    Text("\(row.item.routineTitle) · \(row.localDue)")
                }
                Section {
                    TextField(Copy.reason, text: $reason, axis: .vertical)
                        .lineLimit(2...5)
                        .fieldTapTarget()
                        .accessibilityLabel(Copy.reason)
                } header: {
                    Text(Copy.reason)
                }
                Section {
                    Button(Copy.excuse) {
                        Task { if await excuse(reason) { dismiss() } }
                    }
                    .fieldTapTarget()
                }
            }
            .navigationTitle(Copy.excuse)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
            }
        }
    }
}

/// "Record absence": a person of the site, whole days (in the site's zone), a reason.
private struct AbsenceSheet: View {
    let people: [Person]
    let timeZone: TimeZone
    let record: (UUID, Date, Date, String) async -> Bool
    @State private var person: UUID?
    @State private var from = Date()
    @State private var until = Date()
    @State private var reason = ""
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        NavigationStack {
            Form {
                Picker("Person", selection: $person) {
                    ForEach(people, id: \.id) { person in
                        Text(person.name).tag(Optional(person.id))
                    }
                }
                .fieldTapTarget()
                DatePicker("From", selection: $from, displayedComponents: .date)
                    .fieldTapTarget()
                DatePicker("Until", selection: $until, in: from..., displayedComponents: .date)
                    .fieldTapTarget()
                TextField(Copy.reason, text: $reason)
                    .fieldTapTarget()
                    .accessibilityLabel(Copy.reason)
                Button(Copy.recordAbsence) {
                    guard let person = person else { return }
                    Task { if await record(person, from, until, reason) { dismiss() } }
                }
                .disabled(person == nil)
                .fieldTapTarget()
            }
            .environment(\.timeZone, timeZone)
            .navigationTitle(Copy.recordAbsence)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
            }
        }
    }
}
