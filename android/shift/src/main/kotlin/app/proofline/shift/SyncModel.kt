package app.proofline.shift

import app.proofline.core.SyncReport
import app.proofline.core.SyncState
import java.time.ZoneId

/** One row of the Sync screen: a label of the shared copy and its value. */
data class SyncRow(val label: String, val value: String)

/** What the Sync screen shows. */
data class SyncScreen(
    /** "Waiting to sync", "Photos waiting", "Last synced". */
    val rows: List<SyncRow>,
    /** "This phone's clock is off by N min — completions may be flagged", when the core says so. */
    val clockWarning: String?,
    /** The core's sentence for what went wrong in the last sync. */
    val lastError: String?,
    /** Events the server refused, with its reasons (kept on the phone). */
    val rejected: List<String>,
    val server: String?,
    val pendingEvents: Long,
    val pendingPhotos: Long,
)

/** The Sync screen and the sync itself (the app's worker runs [syncNow] too). */
class SyncModel(private val session: ShiftSession, private val zone: ZoneId = ZoneId.systemDefault()) {
    /** The report of the last [syncNow] from this model. */
    var lastReport: SyncReport? = null
        private set

    fun load(): Outcome<SyncScreen> = core {
        val device = session.device
        val status = device.syncStatus()
        val now = session.clock.now()
        val rejected = device.outbox().mapNotNull { (it.state as? SyncState.Rejected)?.reason }
        val last = status.lastSyncAt
        SyncScreen(
            rows = listOf(
                SyncRow(Copy.WAITING_TO_SYNC, status.pendingEvents.toString()),
                SyncRow(Copy.PHOTOS_WAITING, status.pendingUploads.toString()),
                SyncRow(Copy.LAST_SYNCED, if (last == null) Copy.NEVER else Formats.ago(last, now, zone)),
            ),
            clockWarning = clockWarning(status.clockSkewWarning, status.lastClockOffsetMs),
            lastError = status.lastError,
            rejected = rejected,
            server = status.server,
            pendingEvents = status.pendingEvents.toLong(),
            pendingPhotos = status.pendingUploads.toLong(),
        )
    }

    /**
     * Syncs now (blocking: network) with the phone's clock: uploads photos, pushes and pulls
     * events. Network trouble is in the report (its sentences), never lost.
     */
    fun syncNow(): Outcome<SyncReport> {
        val outcome = core { session.device.sync(session.clock.now()) }
        if (outcome is Outcome.Done) lastReport = outcome.value
        return outcome
    }

    companion object {
        fun clockWarning(warning: Boolean, offsetMs: Long?): String? =
            if (warning && offsetMs != null) Copy.clockSkew(Formats.offsetMinutes(offsetMs)) else null
    }
}
