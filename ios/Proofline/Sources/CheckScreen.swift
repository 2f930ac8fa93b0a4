// Check: every step kind — tick, reading (unit, allowed range, "Out of range — what did you
// do?" as soon as the core reports it outside it), choice, text, signature, photo ("Take
// photo" / "Retake", JPEG to the core) — then "Complete check", enabled only when the core's
// dry run (`checkProof`, asked by the view model after every change) finds nothing to
// refuse. The core's problem sentences show verbatim on their steps (a step not answered
// yet quietly, the rest as errors); a refused "Complete check" shows the core's sentence in
// full. Recorded completions show their proof thumbnails (Review opens this screen too),
// the escalation timeline and recent history.

import ProoflineKit
import SwiftUI
import UIKit

struct CheckScreen: View {
    @StateObject private var model: Observed<CheckViewModel>
    let onDone: () -> Void
    @State private var cameraFor: CameraTarget?

    init(model: @autoclosure @escaping () -> Observed<CheckViewModel>, onDone: @escaping () -> Void) {
        _model = StateObject(wrappedValue: model())
        self.onDone = onDone
    }

    private var vm: CheckViewModel { model.value }

    var body: some View {
        Form {
            if let detail = vm.detail {
                Section {
                    Text(vm.windowText)
                        .font(.headline.monospacedDigit())
                    HStack {
                        Text(vm.statusText).font(.subheadline.weight(.semibold))
                        Spacer()
                        Text(detail.assigneeName).font(.subheadline)
                    }
                    .accessibilityElement(children: .combine)
                    if let note = detail.assignmentNote {
                        Text(note).font(.footnote).foregroundColor(.secondary)
                    }
                    if !detail.instructions.isEmpty {
                        Text(detail.instructions)
                            .font(.body)
                            .fixedSize(horizontal: false, vertical: true)
                    }
                } header: {
                    Text(detail.siteName)
                }

                ForEach(vm.escalationsToAcknowledge, id: \.id) { level in
                    Section {
                        Button {
                            Task { await vm.acknowledge(level.id) }
                        } label: {
                            Label("\(Copy.acknowledge) (level \(level.level))", systemImage: "bell.badge")
                                .fieldTapTarget()
                        }
                    }
                }

                if vm.isOpenForCompletion {
                    ForEach(vm.steps) { step in
                        Section {
                            StepView(step: step, vm: vm) { cameraFor = CameraTarget(step: step.id, replacing: $0) }
                        } header: {
                            Text(step.requirement.title)
                        } footer: {
                            Text(step.requirement.requirement)
                        }
                    }

                    Section {
                        TextField(Copy.note, text: Binding(get: { vm.note }, set: { vm.note = $0 }), axis: .vertical)
                            .lineLimit(2...5)
                            .accessibilityLabel(Copy.note)
                    }

                    if vm.error != nil || vm.checkError != nil || !vm.otherProblems.isEmpty {
                        Section {
                            if let error = vm.error { ErrorText(error: error) }
                            if let error = vm.checkError, error != vm.error { ErrorText(error: error) }
                            ForEach(vm.otherProblems, id: \.self) { message in
                                ErrorText(error: ShownError(message: message, advice: .fixInput))
                            }
                        }
                    }

                    Section {
                        Button {
                            Task {
                                if await vm.submit() { onDone() }
                            }
                        } label: {
                            HStack {
                                Spacer()
                                if vm.isSubmitting { ProgressView() } else { Text(Copy.completeCheck).font(.headline) }
                                Spacer()
                            }
                            .fieldTapTarget()
                        }
                        .disabled(!vm.canSubmit)
                        .accessibilityLabel(Copy.completeCheck)
                        .accessibilityHint(vm.canSubmit ? "" : "Answer every step and fix what it says first")
                    }
                } else if let error = vm.error {
                    Section { ErrorText(error: error) }
                }

                if !vm.completions.isEmpty {
                    Section {
                        ForEach(vm.completions) { row in
                            CompletionView(row: row, thumbnails: vm.thumbnails)
                        }
                    } header: {
                        Text("Completions")
                    }
                }

                if !detail.timeline.levels.isEmpty {
                    Section {
                        ForEach(detail.timeline.levels, id: \.id) { level in
                            HStack {
                                Text("Level \(level.level)")
                                Spacer()
                                Text(vm.siteTime.time(level.firesAt)).monospacedDigit()
                                Image(systemName: level.fired ? "bell.fill" : "bell")
                                    .accessibilityHidden(true)
                            }
                            .accessibilityElement(children: .combine)
                            .accessibilityLabel(
                                "Escalation level \(level.level), \(level.fired ? "fired" : "fires") at \(vm.siteTime.time(level.firesAt)) to \(level.recipients.map(vm.name).joined(separator: ", "))")
                        }
                    } header: {
                        Text("Escalation")
                    }
                }

                if !detail.recent.isEmpty {
                    Section {
                        ForEach(detail.recent, id: \.occurrence) { recent in
                            HStack {
                                Text(vm.siteTime.localText(recent.localDue, now: Date())).monospacedDigit()
                                Spacer()
                                Text(statusText(recent.status))
                            }
                            .accessibilityElement(children: .combine)
                        }
                    } header: {
                        Text("Recent")
                    }
                }
            } else if let error = vm.error {
                ErrorText(error: error)
            } else {
                ProgressView()
            }
        }
        .navigationTitle(vm.title.isEmpty ? Copy.check : vm.title)
        .navigationBarTitleDisplayMode(.inline)
        .task { await vm.load() }
        .sheet(item: $cameraFor) { target in
            CameraPicker { jpeg in
                cameraFor = nil
                guard let jpeg = jpeg else { return }
                Task { await vm.addPhoto(jpeg, step: target.step, replacing: target.replacing) }
            }
            .ignoresSafeArea()
        }
    }
}

/// Which step (and which photo, for "Retake") the camera is for.
private struct CameraTarget: Identifiable {
    let step: String
    let replacing: Int?
    var id: String { "\(step)-\(replacing ?? -1)" }
}

/// One step's input.
private struct StepView: View {
    let step: StepDraft
    let vm: CheckViewModel
    let takePhoto: (Int?) -> Void

    var body: some View {
        Group {
            switch step.requirement.kind {
            case .check:
                Toggle(isOn: Binding(get: { step.checked }, set: { vm.setChecked(step.id, $0) })) {
                    Text(step.requirement.title)
                }
                .fieldTapTarget()
                .accessibilityLabel(step.requirement.title)
            case .reading:
                ReadingStepView(step: step, vm: vm)
            case .choice:
                ForEach(step.requirement.options, id: \.self) { option in
                    Button {
                        vm.choose(step.id, step.choice == option ? nil : option)
                    } label: {
                        HStack {
                            Text(option).foregroundColor(.primary)
                            Spacer()
                            if step.choice == option {
                                Image(systemName: "checkmark").foregroundColor(.accentColor)
                            }
                        }
                        .fieldTapTarget()
                    }
                    .accessibilityLabel(option)
                    .accessibilityAddTraits(step.choice == option ? .isSelected : [])
                }
            case .text:
                TextField(step.requirement.title, text: Binding(get: { step.text }, set: { vm.setText(step.id, $0) }), axis: .vertical)
                    .lineLimit(2...6)
                    .fieldTapTarget()
                    .accessibilityLabel(step.requirement.title)
            case .signature:
                SignaturePad { vm.setSignature(step.id, $0) }
                    .frame(height: 160)
                    .accessibilityLabel("\(Copy.signHere): \(step.requirement.title)")
            case .photo:
                PhotoStepView(step: step, thumbnails: vm.thumbnails, takePhoto: takePhoto)
            }
            // The core's sentence for this step as entered (`checkProof`), verbatim: "not
            // answered yet" quietly, anything else as an error.
            if let message = step.message {
                Text(message)
                    .font(.callout)
                    .foregroundColor(step.isUnanswered ? .secondary : .red)
                    .fixedSize(horizontal: false, vertical: true)
                    .accessibilityLabel(step.isUnanswered ? message : "Problem: \(message)")
            }
        }
    }
}

private struct ReadingStepView: View {
    let step: StepDraft
    let vm: CheckViewModel

    var body: some View {
        HStack {
            TextField(step.requirement.title, text: Binding(get: { step.readingText }, set: { vm.setReading(step.id, $0) }))
                .keyboardType(.decimalPad)
                .font(.title2.monospacedDigit())
                .fieldTapTarget()
                .accessibilityLabel("\(step.requirement.title), in \(step.requirement.unit ?? "")")
            if let unit = step.requirement.unit {
                Text(unit).font(.title2)
            }
        }
        if let range = step.rangeText {
            Text(range).font(.footnote).foregroundColor(.secondary)
        }
        if step.showsCorrectivePrompt {
            VStack(alignment: .leading, spacing: 8) {
                Label(Copy.outOfRangeTitle, systemImage: "thermometer.high")
                    .font(.headline)
                    .foregroundColor(.orange)
                TextField(Copy.outOfRangeTitle, text: Binding(get: { step.correctiveAction }, set: { vm.setCorrectiveAction(step.id, $0) }), axis: .vertical)
                    .lineLimit(2...5)
                    .fieldTapTarget()
                    .accessibilityLabel(Copy.outOfRangeTitle)
            }
        }
    }
}

private struct PhotoStepView: View {
    let step: StepDraft
    let thumbnails: [String: Data]
    let takePhoto: (Int?) -> Void

    var body: some View {
        ForEach(Array(step.photos.enumerated()), id: \.offset) { index, photo in
            HStack {
                Thumbnail(data: thumbnails[photo.sha256])
                    .frame(width: 96, height: 96)
                Spacer()
                Button(Copy.retake) { takePhoto(index) }
                    .buttonStyle(.bordered)
                    .fieldTapTarget()
                    .accessibilityLabel("\(Copy.retake) photo \(index + 1)")
            }
        }
        if step.photos.count < max(step.photosNeeded, 1) || step.photos.isEmpty {
            Button {
                takePhoto(nil)
            } label: {
                Label(Copy.takePhoto, systemImage: "camera.fill")
                    .font(.headline)
                    .fieldTapTarget()
            }
            .accessibilityLabel(Copy.takePhoto)
        }
    }
}

/// A JPEG thumbnail from the core; "Pending upload" until this phone holds it.
struct Thumbnail: View {
    let data: Data?

    var body: some View {
        if let data = data, let image = UIImage(data: data) {
            Image(uiImage: image)
                .resizable()
                .scaledToFill()
                .clipShape(RoundedRectangle(cornerRadius: 8))
                .accessibilityLabel("Proof photo")
        } else {
            RoundedRectangle(cornerRadius: 8)
                .fill(Color.secondary.opacity(0.2))
                .overlay(Text(Copy.pendingUpload).font(.caption2).multilineTextAlignment(.center))
                .accessibilityLabel(Copy.pendingUpload)
        }
    }
}

private struct CompletionView: View {
    let row: CompletionRow
    let thumbnails: [String: Data]

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            Text("\(row.record.byName) · \(row.atText)").font(.subheadline.weight(.semibold))
            ForEach(row.record.results, id: \.step) { result in
                Text(answerText(result)).font(.footnote)
            }
            if let note = row.record.note {
                Text(note).font(.footnote).foregroundColor(.secondary)
            }
            ForEach(row.record.problems, id: \.step) { problem in
                Text(problem.message).font(.footnote).foregroundColor(.red)
            }
            if !row.photos.isEmpty {
                ScrollView(.horizontal) {
                    HStack {
                        ForEach(row.photos, id: \.self) { sha in
                            Thumbnail(data: thumbnails[sha]).frame(width: 120, height: 160)
                        }
                    }
                }
            }
        }
        .accessibilityElement(children: .contain)
    }

    private func answerText(_ result: StepResult) -> String {
        switch result.answer {
        case .checked: return "\(result.step): ✓"
        case let .reading(value, correctiveAction):
            return "\(result.step): \(value)" + (correctiveAction.map { " — \($0)" } ?? "")
        case let .photos(sha256): return "\(result.step): \(sha256.count) photo(s)"
        case let .choice(option): return "\(result.step): \(option)"
        case let .text(text): return "\(result.step): \(text)"
        case .signature: return "\(result.step): signed"
        }
    }
}

/// A signature pad: strokes drawn with a finger, handed over as `SignatureStrokes`.
private struct SignaturePad: View {
    let changed: (SignatureStrokes) -> Void
    @State private var strokes: [[CGPoint]] = []

    var body: some View {
        ZStack(alignment: .topTrailing) {
            Canvas { context, _ in
                for stroke in strokes where stroke.count > 0 {
                    var path = Path()
                    path.addLines(stroke)
                    context.stroke(path, with: .color(.primary), lineWidth: 3)
                }
            }
            .background(Color(uiColor: .secondarySystemBackground))
            .clipShape(RoundedRectangle(cornerRadius: 8))
            .gesture(
                DragGesture(minimumDistance: 0)
                    .onChanged { value in
                        if value.translation == .zero { strokes.append([]) }
                        if strokes.isEmpty { strokes.append([]) }
                        strokes[strokes.count - 1].append(value.location)
                    }
                    .onEnded { _ in report() }
            )
            Button(Copy.clearSignature) {
                strokes = []
                report()
            }
            .padding(8)
            .accessibilityLabel("\(Copy.clearSignature) signature")
        }
    }

    private func report() {
        changed(SignatureStrokes(strokes: strokes.map { stroke in
            stroke.map { SignatureStrokes.Point(x: Double($0.x), y: Double($0.y)) }
        }))
    }
}

/// The system camera (UIImagePickerController): the photo as JPEG, or nil when cancelled.
struct CameraPicker: UIViewControllerRepresentable {
    let done: (Data?) -> Void

    func makeCoordinator() -> Coordinator { Coordinator(done: done) }

    func makeUIViewController(context: Context) -> UIImagePickerController {
        let picker = UIImagePickerController()
        picker.sourceType = UIImagePickerController.isSourceTypeAvailable(.camera) ? .camera : .photoLibrary
        picker.allowsEditing = false
        picker.delegate = context.coordinator
        return picker
    }

    func updateUIViewController(_ picker: UIImagePickerController, context: Context) {}

    final class Coordinator: NSObject, UIImagePickerControllerDelegate, UINavigationControllerDelegate {
        let done: (Data?) -> Void

        init(done: @escaping (Data?) -> Void) {
            self.done = done
        }

        func imagePickerController(
            _ picker: UIImagePickerController, didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]
        ) {
            // JPEG with its orientation: the core turns it upright, scales it and strips metadata.
            let image = info[.originalImage] as? UIImage
            done(image?.jpegData(compressionQuality: 0.9))
        }

        func imagePickerControllerDidCancel(_ picker: UIImagePickerController) {
            done(nil)
        }
    }
}
