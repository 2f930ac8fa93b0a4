package app.proofline.shift

import app.proofline.core.Completion
import app.proofline.core.OccurrenceDetail
import app.proofline.core.PhotoRecord
import app.proofline.core.ProblemKind
import app.proofline.core.ProofProblem
import app.proofline.core.ProoflineException
import app.proofline.core.StepAnswer
import app.proofline.core.StepRequirement
import app.proofline.core.StepResult
import app.proofline.core.Status
import app.proofline.core.StepType
import java.util.UUID

/** What the person has entered for one step so far (form state, not yet a core answer). */
sealed class StepInput {
    data class Tick(val checked: Boolean = false) : StepInput()
    data class Reading(val text: String = "", val correctiveAction: String = "") : StepInput()
    data class Choice(val option: String? = null) : StepInput()
    data class Text(val text: String = "") : StepInput()
    data class Signature(val pad: SignaturePad = SignaturePad()) : StepInput()
    data class Photos(val photos: List<PhotoRecord> = emptyList()) : StepInput()

    companion object {
        fun empty(kind: StepType): StepInput = when (kind) {
            StepType.CHECK -> Tick()
            StepType.READING -> Reading()
            StepType.CHOICE -> Choice()
            StepType.TEXT -> Text()
            StepType.SIGNATURE -> Signature()
            StepType.PHOTO -> Photos()
        }

        /** A typed number: "7.5" or "7,5"; anything else is passed as NaN, which the core names. */
        fun parseNumber(text: String): Double =
            text.trim().replace(',', '.').toDoubleOrNull() ?: Double.NaN
    }
}

/** One step as the Check screen shows it. */
data class StepView(
    val step: StepRequirement,
    val input: StepInput,
    /**
     * What the core says is wrong with this step for the input as it is now, verbatim: its
     * `checkProof` problem sentence(s), or a photo it could not take. Null: nothing.
     */
    val message: String?,
    /** The kind of the core's (first) problem with this step, from `checkProof`. */
    val problem: ProblemKind?,
    /**
     * The core's only complaint is that the step has no answer yet (the screen shows that
     * sentence quietly, not as an error).
     */
    val isUnanswered: Boolean,
    /** Show the corrective-action prompt ("Out of range — what did you do?"). */
    val showCorrectivePrompt: Boolean,
    /** The allowed range of a reading, with its unit ("1–5 °C"). */
    val range: String?,
    /** What TalkBack reads for the step: title, requirement, and the core's message. */
    val spoken: String,
) {
    /** The core reports this reading out of its range (and no corrective action yet). */
    val isOutOfRange: Boolean get() = problem is ProblemKind.OutOfRange
}

/**
 * The Check screen: the occurrence's steps from the core, the person's answers, photo capture
 * through the core, and completion. Every verdict is the core's: after every answer or photo
 * change the model asks it (`checkProof`, recording nothing) for the problems `complete` would
 * refuse for. "Complete check" is enabled exactly when the core found none in the input as it
 * is now; each problem's sentence is shown on the step it names, and a reading the core
 * reports out of range opens the corrective-action prompt. No rule (required steps, ranges,
 * photo counts) is repeated here. `complete` still answers `ProofIncomplete` if the check
 * changed underneath (a sync, say): that sentence is kept verbatim in [message].
 *
 * Not thread-safe: call from one worker thread at a time (the app's view model does). Every
 * change asks the core synchronously, so [problems] always answers for the current input.
 */
class CheckModel(private val session: ShiftSession, val occurrence: UUID) {
    var detail: OccurrenceDetail? = null
        private set
    private val inputs = LinkedHashMap<String, StepInput>()
    var note: String = ""
        private set

    /** The core's whole sentence from the last refused attempt to complete (shown above the steps). */
    var message: String? = null
        private set
    /** Whether [message] is a refusal of the input (`ProofIncomplete`, `InvalidInput`): cleared by the next change. */
    private var messageIsInput = false

    /**
     * The core's `checkProof` answer for the input as it is now: the problems `complete`
     * would refuse for (empty: it can be completed). Null while the check is not open for
     * completion, not loaded, or the core could not check ([checkError]).
     */
    var problems: List<ProofProblem>? = null
        private set

    /** The core could not check the proof (storage, an unknown photo…), verbatim; cleared by the next check. */
    var checkError: String? = null
        private set

    /** A photo the core could not take, by step (its sentence, verbatim); cleared when the step changes. */
    private var photoErrors: Map<String, String> = emptyMap()

    /** The completion recorded by the last successful attempt. */
    var completed: Completion? = null
        private set
    var busy: Boolean = false
        private set

    /** Loads (or reloads) the occurrence at now; keeps what the person entered and asks the core about it. */
    fun load(): Outcome<OccurrenceDetail> {
        val outcome = core {
            val d = session.device.occurrence(occurrence, session.clock.now())
            detail = d
            for (step in d.steps) {
                val kept = inputs[step.key]
                if (kept == null || !kept.fits(step.kind)) inputs[step.key] = StepInput.empty(step.kind)
            }
            inputs.keys.retainAll(d.steps.map { it.key }.toSet())
            d
        }
        if (outcome is Outcome.Done) checkProof()
        return outcome
    }

    fun input(step: String): StepInput = inputs[step] ?: throw IllegalArgumentException("no step $step")

    /** Whether this check can still be completed here (loaded and not resolved: done or excused). */
    val isOpenForCompletion: Boolean
        get() {
            val status = detail?.status ?: return false
            return status != Status.DONE_ON_TIME && status != Status.DONE_LATE && status != Status.EXCUSED
        }

    /** "Complete check" enabled: the core found nothing to refuse in the input as it is now. */
    val canSubmit: Boolean
        get() = isOpenForCompletion && !busy && problems?.isEmpty() == true

    /** The core's problems that name no step of this check (an unknown step), verbatim: shown above the button. */
    val otherProblems: List<String>
        get() {
            val keys = detail?.steps?.map { it.key }?.toSet() ?: emptySet()
            return (problems ?: emptyList()).filter { it.step !in keys }.map { it.message }
        }

    /** The steps with their input and the core's problems, in order. */
    fun steps(): List<StepView> {
        val d = detail ?: return emptyList()
        val found = problems ?: emptyList()
        return d.steps.map { step ->
            val input = input(step.key)
            val mine = found.filter { it.step == step.key }
            val msg = listOfNotNull(
                mine.takeIf { it.isNotEmpty() }?.joinToString(" ") { it.message },
                photoErrors[step.key],
            ).joinToString(" ").ifEmpty { null }
            val problem = mine.firstOrNull()?.problem
            val corrective = input is StepInput.Reading &&
                (problem is ProblemKind.OutOfRange || input.correctiveAction.isNotEmpty())
            val range = if (step.kind == StepType.READING) Formats.range(step.min, step.max, step.unit) else null
            StepView(
                step = step,
                input = input,
                message = msg,
                problem = problem,
                isUnanswered = mine.isNotEmpty() && mine.all { it.problem == ProblemKind.Unanswered } &&
                    photoErrors[step.key] == null,
                showCorrectivePrompt = corrective,
                range = range,
                spoken = listOfNotNull(step.title, step.requirement, msg).joinToString(". "),
            )
        }
    }

    fun setTick(step: String, checked: Boolean) = update(step, StepInput.Tick(checked))

    fun setReading(step: String, text: String) {
        val current = input(step) as StepInput.Reading
        update(step, current.copy(text = text))
    }

    fun setCorrectiveAction(step: String, text: String) {
        val current = input(step) as StepInput.Reading
        update(step, current.copy(correctiveAction = text))
    }

    fun choose(step: String, option: String) = update(step, StepInput.Choice(option))

    fun setText(step: String, text: String) = update(step, StepInput.Text(text))

    fun setSignature(step: String, pad: SignaturePad) = update(step, StepInput.Signature(pad))

    fun setNote(text: String) {
        note = text
    }

    /**
     * A photo from the camera (JPEG bytes) for a photo step: the core turns it upright,
     * scales it, strips metadata and stores it for upload. [replacing] retakes that one.
     */
    fun takePhoto(step: String, bytes: ByteArray, replacing: Int? = null): Outcome<PhotoRecord> {
        val outcome = core { session.device.capturePhoto(bytes, session.clock.now()) }
        if (outcome is Outcome.Done) {
            val photos = (input(step) as StepInput.Photos).photos.toMutableList()
            if (replacing != null && replacing in photos.indices) photos[replacing] = outcome.value else photos.add(outcome.value)
            update(step, StepInput.Photos(photos))
        } else if (outcome is Outcome.Failed) {
            photoErrors = photoErrors + (step to outcome.failure.message)
        }
        return outcome
    }

    fun removePhoto(step: String, index: Int) {
        val photos = (input(step) as StepInput.Photos).photos.toMutableList()
        if (index in photos.indices) photos.removeAt(index)
        update(step, StepInput.Photos(photos))
    }

    /** The stored thumbnail of a captured photo (JPEG), for the step's preview. */
    fun thumbnail(photo: PhotoRecord): ByteArray? = try {
        session.device.thumbnail(photo.sha256)
    } catch (e: ProoflineException) {
        null
    }

    /**
     * The answers as core step results: a step with nothing entered is left out (whether
     * that is allowed is the core's to say); a reading that is not a number is passed as NaN,
     * so the core's sentence names it.
     */
    fun results(): List<StepResult> {
        val d = detail ?: return emptyList()
        return d.steps.mapNotNull { step ->
            val answer: StepAnswer? = when (val input = input(step.key)) {
                is StepInput.Tick -> if (input.checked) StepAnswer.Checked else null
                is StepInput.Reading -> if (input.text.isBlank()) null else StepAnswer.Reading(
                    StepInput.parseNumber(input.text),
                    input.correctiveAction.trim().ifEmpty { null },
                )
                is StepInput.Choice -> input.option?.let { StepAnswer.Choice(it) }
                is StepInput.Text -> if (input.text.isBlank()) null else StepAnswer.Text(input.text.trim())
                is StepInput.Signature -> if (input.pad.isEmpty) null else StepAnswer.Signature(input.pad.encode())
                is StepInput.Photos -> if (input.photos.isEmpty()) null else StepAnswer.Photos(input.photos.map { it.sha256 })
            }
            answer?.let { StepResult(step.key, it) }
        }
    }

    /**
     * Asks the core, recording nothing, what `complete` would refuse in the input as it is
     * now ([problems]). Done after every change and load; call it again when the check may
     * have changed underneath (after a sync).
     */
    fun checkProof() {
        if (!isOpenForCompletion) {
            problems = null
            checkError = null
            return
        }
        when (val answer = core { session.device.checkProof(occurrence, results(), emptyList(), session.clock.now()) }) {
            is Outcome.Done -> {
                problems = answer.value
                checkError = null
            }
            is Outcome.Failed -> {
                problems = null
                checkError = answer.failure.message
            }
        }
    }

    /**
     * Completes the check with the answers (blocking; durable, offline). On the core's
     * refusal its sentence is kept verbatim in [message] and the core is asked again, so the
     * steps show its problems.
     */
    fun submit(): Outcome<Completion> {
        check(detail != null) { "load first" }
        busy = true
        try {
            val outcome = core {
                session.device.complete(occurrence, results(), emptyList(), note.trim().ifEmpty { null }, session.clock.now())
            }
            when (outcome) {
                is Outcome.Done -> {
                    completed = outcome.value
                    message = null
                    messageIsInput = false
                    photoErrors = emptyMap()
                    load()
                }
                is Outcome.Failed -> {
                    message = outcome.failure.message
                    messageIsInput = outcome.failure.remedy == Remedy.FIX_INPUT
                    if (messageIsInput) checkProof()
                }
            }
            return outcome
        } finally {
            busy = false
        }
    }

    /** Changes one step's input and asks the core about the new input; a refusal of the old input is cleared. */
    private fun update(step: String, input: StepInput) {
        require(inputs.containsKey(step)) { "no step $step" }
        inputs[step] = input
        photoErrors = photoErrors - step
        if (messageIsInput) {
            message = null
            messageIsInput = false
        }
        checkProof()
    }
}

/** Whether this input is of the kind a step of [kind] takes (a reload may change a step). */
private fun StepInput.fits(kind: StepType): Boolean = when (this) {
    is StepInput.Tick -> kind == StepType.CHECK
    is StepInput.Reading -> kind == StepType.READING
    is StepInput.Choice -> kind == StepType.CHOICE
    is StepInput.Text -> kind == StepType.TEXT
    is StepInput.Signature -> kind == StepType.SIGNATURE
    is StepInput.Photos -> kind == StepType.PHOTO
}
