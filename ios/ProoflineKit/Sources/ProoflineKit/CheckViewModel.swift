// Check: one occurrence's steps (tick, reading, photo, choice, text, signature), its window
// in the site's zone, assignee, escalation timeline, completions with proof thumbnails and
// recent history — all from the core's `occurrence` — and "Complete check".
//
// The core decides whether the proof is complete. After every answer or photo change the
// view model asks it (`checkProof`, off the main thread, recording nothing) for the problems
// `complete` would refuse for: "Complete check" is enabled exactly when that list is empty
// (for the input as it is now), and each problem's sentence is shown on the step it names
// (`ProofProblem.step`). A reading the core reports out of range (`.outOfRange`) opens the
// "Out of range — what did you do?" prompt on its step while the person types. No rule
// (required steps, ranges, photo counts) is repeated here. `complete` still answers
// `ProofIncomplete` if the check changed underneath (a sync, say): that sentence is shown
// verbatim, and the core is asked again so the steps show its problems.

import Foundation

/// What the person has entered for one step.
public struct StepDraft: Identifiable, Equatable {
    public let requirement: StepRequirement
    public var id: String { requirement.key }

    public var checked = false
    public var readingText = ""
    public var correctiveAction = ""
    public var choice: String?
    public var text = ""
    /// Signature strokes, encoded (`SignatureStrokes`).
    public var signature = ""
    /// Photos captured for this step, in order.
    public var photos: [PhotoRecord] = []
    /// What the core last said is wrong with this step, verbatim: its `checkProof` problem
    /// sentence(s) for the input as entered, or a photo it could not take.
    public var message: String?
    /// The kind of the core's (first) problem with this step, from `checkProof`.
    public var problem: ProblemKind?

    public init(requirement: StepRequirement) {
        self.requirement = requirement
    }

    /// The reading as a number (either decimal separator), if it is one.
    public var readingValue: Double? {
        let text = readingText.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
        guard !text.isEmpty, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// Whether the core reports this reading out of its range (without a corrective action).
    public var isOutOfRange: Bool {
        if case .outOfRange = problem { return true }
        return false
    }

    /// Whether the core's problem is only that this step is not answered yet (the screen
    /// shows that sentence quietly, not as an error).
    public var isUnanswered: Bool { problem == .unanswered }

    /// "Out of range — what did you do?" shows under a reading as soon as the core reports
    /// it out of range, and stays while a corrective action is written.
    public var showsCorrectivePrompt: Bool {
        guard requirement.kind == .reading else { return false }
        return isOutOfRange || !correctiveAction.isEmpty
    }

    /// "Allowed: 1–5 °C" under a reading, from the range the core sent.
    public var rangeText: String? {
        guard requirement.kind == .reading else { return nil }
        return Formats.range(min: requirement.min, max: requirement.max, unit: requirement.unit).map { "Allowed: \($0)" }
    }

    /// How many photos the step asks for (at least one), for the "Take photo" button.
    public var photosNeeded: Int { max(1, Int(requirement.minPhotos ?? 1)) }

    /// Whether the person has entered something for this step (an empty field is no
    /// answer; whether an answer is enough is the core's to say).
    public var hasInput: Bool {
        switch requirement.kind {
        case .check: return checked
        case .reading: return !readingText.trimmingCharacters(in: .whitespaces).isEmpty
        case .photo: return !photos.isEmpty
        case .choice: return choice != nil
        case .text: return !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        case .signature: return !signature.isEmpty
        }
    }

    /// The answer handed to the core; nil when the step was left empty. A reading that is
    /// not a number is still passed (as NaN), so the core's message names it.
    public var result: StepResult? {
        guard hasInput else { return nil }
        let answer: StepAnswer
        switch requirement.kind {
        case .check:
            answer = .checked
        case .reading:
            let note = correctiveAction.trimmingCharacters(in: .whitespacesAndNewlines)
            answer = .reading(value: readingValue ?? .nan, correctiveAction: note.isEmpty ? nil : note)
        case .photo:
            answer = .photos(sha256: photos.map(\.sha256))
        case .choice:
            answer = .choice(option: choice ?? "")
        case .text:
            answer = .text(text: text.trimmingCharacters(in: .whitespacesAndNewlines))
        case .signature:
            answer = .signature(data: signature)
        }
        return StepResult(step: requirement.key, answer: answer)
    }
}

/// A completion recorded for this check, with its proof thumbnails (Review shows them).
public struct CompletionRow: Identifiable, Equatable {
    public var id: Uuid { record.event }
    public let record: CompletionRecord
    public let atText: String
    /// Photo hashes in step order.
    public let photos: [String]
}

@MainActor
public final class CheckViewModel: ViewModel {
    public let occurrenceId: Uuid
    public private(set) var detail: OccurrenceDetail? { didSet { changed() } }
    public private(set) var steps: [StepDraft] = [] { didSet { changed() } }
    public var note = "" { didSet { changed() } }
    public private(set) var completions: [CompletionRow] = [] { didSet { changed() } }
    /// Thumbnails by photo hash (JPEG), for photos this phone holds; missing ones are
    /// "Pending upload" on the phone that took them, or not synced yet here.
    public private(set) var thumbnails: [String: Data] = [:] { didSet { changed() } }
    /// The last failure, verbatim (for "Complete check": every unmet requirement).
    public private(set) var error: ShownError? { didSet { changed() } }
    public private(set) var isSubmitting = false { didSet { changed() } }
    public private(set) var completed: Completion? { didSet { changed() } }
    /// The core's `checkProof` answer for the input as it is now: the problems `complete`
    /// would refuse for (empty: it can be completed). Nil while the core has not answered
    /// for the latest change.
    public private(set) var problems: [ProofProblem]? { didSet { changed() } }
    /// The core could not check the proof (not a proof problem: storage, an unknown photo…),
    /// verbatim; cleared by the next successful check.
    public private(set) var checkError: ShownError? { didSet { changed() } }

    /// Counts input changes; a `checkProof` answer counts only for the latest one.
    private var inputVersion = 0
    private var checking: Task<Void, Never>?

    private let session: ProoflineSession
    private let locale: Locale

    public init(session: ProoflineSession, occurrence: Uuid, locale: Locale = .current) {
        self.session = session
        self.occurrenceId = occurrence
        self.locale = locale
    }

    public var siteTime: SiteTime {
        SiteTime(zone: detail?.timeZone ?? TimeZone.current.identifier, locale: locale)
    }

    public var title: String { detail?.routineTitle ?? "" }
    public var status: Status? { detail?.status }
    public var statusText: String { detail.map { ProoflineKit.statusText($0.status) } ?? "" }

    /// "Due 07:00 · late after 07:15 · closes 09:00", in the site's zone.
    public var windowText: String {
        guard let detail = detail else { return "" }
        let now = session.clock()
        let time = siteTime
        return "Due \(time.dueText(detail.occurrence.due, now: now)) · late after \(time.time(detail.occurrence.lateAfter)) · closes \(time.dueText(detail.occurrence.closes, now: now))"
    }

    /// Whether this check can still be completed here (not already resolved).
    public var isOpenForCompletion: Bool {
        guard let detail = detail else { return false }
        return !ProoflineKit.isResolved(detail.status)
    }

    /// "Complete check": the core found nothing to refuse in the input as it is now.
    public var canSubmit: Bool {
        guard isOpenForCompletion, !isSubmitting, let problems = problems else { return false }
        return problems.isEmpty
    }

    /// The core's problems that name no step of this check (an unknown step), verbatim.
    public var otherProblems: [String] {
        let keys = Set(steps.map(\.id))
        return (problems ?? []).filter { !keys.contains($0.step) }.map(\.message)
    }

    /// Loads the check at the session's clock. Keeps what the person has entered when
    /// reloading, and asks the core about it (`checkProof`) while the check is open.
    public func load() async {
        let now = session.clock()
        let id = occurrenceId
        do {
            let detail = try await session.run { try $0.occurrence(occurrence: id, now: now) }
            let previous = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
            steps = detail.steps.map { requirement in
                var draft = previous[requirement.key] ?? StepDraft(requirement: requirement)
                if draft.requirement != requirement { draft = StepDraft(requirement: requirement) }
                return draft
            }
            let time = SiteTime(zone: detail.timeZone, locale: locale)
            completions = detail.completions.map { record in
                CompletionRow(
                    record: record, atText: time.localText(record.localAt, now: now),
                    photos: record.results.flatMap { result -> [String] in
                        if case let .photos(sha256) = result.answer { return sha256 }
                        return []
                    })
            }
            self.detail = detail
            // Recorded completions show their own problems (`CompletionRecord.problems`);
            // the steps show the core's problems with what is entered now.
            checkProof()
            await loadThumbnails(completions.flatMap(\.photos))
        } catch {
            self.error = ShownError(error)
        }
    }

    // MARK: input

    public func toggle(_ step: String) { update(step) { $0.checked.toggle() } }
    public func setChecked(_ step: String, _ value: Bool) { update(step) { $0.checked = value } }
    public func setReading(_ step: String, _ text: String) { update(step) { $0.readingText = text } }
    public func setCorrectiveAction(_ step: String, _ text: String) { update(step) { $0.correctiveAction = text } }
    public func choose(_ step: String, _ option: String?) { update(step) { $0.choice = option } }
    public func setText(_ step: String, _ text: String) { update(step) { $0.text = text } }
    public func setSignature(_ step: String, _ strokes: SignatureStrokes) {
        update(step) { $0.signature = strokes.isEmpty ? "" : strokes.encoded }
    }

    /// Hands a camera JPEG to the core (upright, 1600 px, no metadata, thumbnail; stored
    /// and queued for upload) and attaches it to the step. `replacing`: the index of the
    /// photo a "Retake" replaces.
    @discardableResult
    public func addPhoto(_ jpeg: Data, step: String, replacing index: Int? = nil) async -> PhotoRecord? {
        let now = session.clock()
        do {
            let record = try await session.run { try $0.capturePhoto(bytes: jpeg, capturedAt: now) }
            update(step) { draft in
                if let index = index, draft.photos.indices.contains(index) {
                    draft.photos[index] = record
                } else {
                    draft.photos.append(record)
                }
            }
            await loadThumbnails([record.sha256])
            return record
        } catch {
            let shown = ShownError(error)
            self.error = shown
            setMessage(shown.message, step: step)
            return nil
        }
    }

    public func removePhoto(step: String, at index: Int) {
        update(step) { if $0.photos.indices.contains(index) { $0.photos.remove(at: index) } }
    }

    /// The step results as handed to the core.
    public var results: [StepResult] { steps.compactMap(\.result) }

    /// Waits until the core has answered `checkProof` for the latest input change (the
    /// screen needs no wait: `problems`, the steps and `canSubmit` change when it answers).
    public func proofChecked() async {
        while let task = checking {
            let version = inputVersion
            await task.value
            if version == inputVersion { return }
        }
    }

    /// "Complete check": the core checks every requirement and records the completion
    /// durably (offline too); or says what is missing, shown verbatim, and asked again per
    /// step.
    @discardableResult
    public func submit() async -> Bool {
        guard !isSubmitting else { return false }
        isSubmitting = true
        defer { isSubmitting = false }
        error = nil
        let (id, results, now) = (occurrenceId, self.results, session.clock())
        let note = self.note.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            let completion = try await session.run {
                try $0.complete(occurrence: id, results: results, photos: [], note: note.isEmpty ? nil : note, now: now)
            }
            completed = completion
            await load()
            return true
        } catch {
            let shown = ShownError(error)
            self.error = shown
            if shown.advice == .fixInput {
                // The refusal in full is shown above; the steps show the core's problems.
                checkProof()
                await proofChecked()
            }
            return false
        }
    }

    /// Acknowledges an escalation level of this check that reached me.
    public func acknowledge(_ escalation: Uuid) async {
        let now = session.clock()
        do {
            _ = try await session.run { try $0.acknowledge(escalation: escalation, now: now) }
            await load()
        } catch {
            self.error = ShownError(error)
        }
    }

    /// Escalation levels that fired, reached me and are not acknowledged.
    public var escalationsToAcknowledge: [EscalationLevel] {
        guard let detail = detail else { return [] }
        let me = session.identity.person
        return detail.timeline.levels.filter {
            $0.fired && $0.acknowledgement == nil && $0.recipients.contains(me)
        }
    }

    /// Names for the people the core lists (recipients, completers).
    public func name(_ person: Uuid) -> String {
        detail?.people.first { $0.id == person }?.name ?? ""
    }

    private func loadThumbnails(_ hashes: [String]) async {
        let missing = hashes.filter { thumbnails[$0] == nil }
        guard !missing.isEmpty else { return }
        let found = (try? await session.run { device in
            try missing.reduce(into: [String: Data]()) { out, sha in
                if let data = try device.thumbnail(photoSha256: sha) { out[sha] = data }
            }
        }) ?? [:]
        thumbnails.merge(found) { $1 }
    }

    /// Changes one step's input and asks the core about the new input. A refusal of the
    /// input as it was (`fixInput`) is no longer current, so it is cleared.
    private func update(_ step: String, _ change: (inout StepDraft) -> Void) {
        guard let index = steps.firstIndex(where: { $0.id == step }) else { return }
        change(&steps[index])
        if error?.advice == .fixInput { error = nil }
        checkProof()
    }

    /// Asks the core, off the main thread and recording nothing, what `complete` would
    /// refuse in the input as it is now. Until it answers `canSubmit` is false; an answer
    /// for input that has changed since is dropped (a newer question is on its way).
    private func checkProof() {
        inputVersion += 1
        guard isOpenForCompletion else {
            problems = nil
            return
        }
        let version = inputVersion
        let (session, id, results, now) = (self.session, occurrenceId, self.results, self.session.clock())
        problems = nil
        checking = Task { [weak self] in
            let answer: Result<[ProofProblem], Error>
            do {
                answer = .success(try await session.run {
                    try $0.checkProof(occurrence: id, results: results, photos: [], now: now)
                })
            } catch {
                answer = .failure(error)
            }
            guard let self = self, version == self.inputVersion else { return }
            self.apply(answer)
        }
    }

    private func apply(_ answer: Result<[ProofProblem], Error>) {
        switch answer {
        case let .success(found):
            var updated = steps
            for index in updated.indices {
                let mine = found.filter { $0.step == updated[index].id }
                updated[index].problem = mine.first?.problem
                updated[index].message = mine.isEmpty ? nil : mine.map(\.message).joined(separator: " ")
            }
            steps = updated
            checkError = nil
            problems = found
        case let .failure(error):
            checkError = ShownError(error)
        }
    }

    private func setMessage(_ message: String, step: String) {
        guard let index = steps.firstIndex(where: { $0.id == step }) else { return }
        steps[index].message = message
    }
}

/// A signature as strokes of points (the app's signature pad), encoded as the answer's data:
/// an SVG path in the pad's coordinates ("M10 12 L11 14 …").
public struct SignatureStrokes: Equatable, Sendable {
    public struct Point: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    public var strokes: [[Point]]

    public init(strokes: [[Point]] = []) {
        self.strokes = strokes
    }

    public var isEmpty: Bool { strokes.allSatisfy(\.isEmpty) }

    public var encoded: String {
        strokes.filter { !$0.isEmpty }.map { stroke in
            stroke.enumerated().map { index, point in
                "\(index == 0 ? "M" : "L")\(Int(point.x.rounded())) \(Int(point.y.rounded()))"
            }.joined(separator: " ")
        }.joined(separator: " ")
    }
}
