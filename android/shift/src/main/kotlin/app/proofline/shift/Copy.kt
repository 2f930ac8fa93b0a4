package app.proofline.shift

/**
 * The user-visible copy shared with the iOS app (docs/screens.md). Both apps use these exact
 * strings; everything else a screen says is the core's sentence, shown verbatim.
 */
object Copy {
    // Screens and tabs
    const val ENROLL_TITLE = "Enroll"
    const val ATTENTION_TITLE = "Attention"
    const val ATTENTION_TAB = "Today"
    const val CHECK_TITLE = "Check"
    const val REVIEW_TITLE = "Review"
    const val SYNC_TITLE = "Sync"

    // Attention
    const val EMPTY_FEED = "All checks on track"
    const val LATER_TODAY = "Later today"
    const val ACKNOWLEDGE = "Acknowledge"

    // Offline
    const val OFFLINE_BANNER = "Offline — changes are saved on this phone and sync when you're back online"

    // Check
    const val COMPLETE_CHECK = "Complete check"
    const val TAKE_PHOTO = "Take photo"
    const val RETAKE = "Retake"
    const val OUT_OF_RANGE_TITLE = "Out of range — what did you do?"
    const val CLEAR_SIGNATURE = "Clear"
    const val SIGN_HERE = "Sign here"

    // Review
    const val EXCUSE = "Excuse"
    const val REASON = "Reason"
    const val RECORD_ABSENCE = "Record absence"
    const val MISSED_AND_LATE = "Missed and late"
    const val BY_ROUTINE = "By routine"
    const val BY_PERSON = "By person"

    // Sync
    const val WAITING_TO_SYNC = "Waiting to sync"
    const val PHOTOS_WAITING = "Photos waiting"
    const val LAST_SYNCED = "Last synced"
    const val NEVER = "Never"
    const val SYNC_NOW = "Sync now"

    // Enroll
    const val ENROLLMENT_CODE = "Enrollment code"
    const val SERVER_ADDRESS = "Server address"
    const val JOIN_SITE = "Join site"
    const val SCAN_CODE = "Scan code"

    /** The clock-skew warning of the Sync screen, for an offset of [minutes] (rounded). */
    fun clockSkew(minutes: Long): String =
        "This phone's clock is off by $minutes min — completions may be flagged"
}
