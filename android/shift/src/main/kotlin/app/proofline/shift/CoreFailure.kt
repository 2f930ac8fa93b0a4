package app.proofline.shift

import app.proofline.core.ProoflineException

/** What the app does about a failed core call (docs/bindings.md, "Errors say what to do"). */
enum class Remedy {
    /** Fix the input and try again (`ProofIncomplete`, `InvalidInput`). */
    FIX_INPUT,
    /** The person may not do this: hide or disable the action (`NotAllowed`). */
    NOT_ALLOWED,
    /** Enroll first, or sync so the device learns of it (`NotFound`). */
    ENROLL_OR_SYNC,
    /** Try again later; nothing was lost (`Offline`, `Storage`). */
    RETRY_LATER,
    /** Enroll again with a new code (`Unauthorized`). */
    ENROLL_AGAIN,
}

/** A failed core call: the core's sentence, verbatim, and what to do about it. */
data class CoreFailure(val message: String, val remedy: Remedy) {
    companion object {
        fun of(e: ProoflineException): CoreFailure {
            val remedy = when (e) {
                is ProoflineException.ProofIncomplete, is ProoflineException.InvalidInput -> Remedy.FIX_INPUT
                is ProoflineException.NotAllowed -> Remedy.NOT_ALLOWED
                is ProoflineException.NotFound -> Remedy.ENROLL_OR_SYNC
                is ProoflineException.Offline, is ProoflineException.Storage -> Remedy.RETRY_LATER
                is ProoflineException.Unauthorized -> Remedy.ENROLL_AGAIN
            }
            return CoreFailure(e.message ?: e.toString(), remedy)
        }
    }
}

/** The result of an action on a screen: done, or the core's failure. */
sealed class Outcome<out T> {
    data class Done<T>(val value: T) : Outcome<T>()
    data class Failed(val failure: CoreFailure) : Outcome<Nothing>()

    val failureMessage: String? get() = (this as? Failed)?.failure?.message
}

/** Runs a core call, turning its typed error into a [Outcome.Failed]. */
inline fun <T> core(block: () -> T): Outcome<T> =
    try {
        Outcome.Done(block())
    } catch (e: ProoflineException) {
        Outcome.Failed(CoreFailure.of(e))
    }
