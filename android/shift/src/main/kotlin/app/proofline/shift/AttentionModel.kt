package app.proofline.shift

import app.proofline.core.Acknowledgement
import app.proofline.core.AgendaItem
import app.proofline.core.AttentionItem
import app.proofline.core.AttentionKind
import app.proofline.core.Status
import java.util.UUID

/** One row of the Attention feed: the core's item, with its time written for the site. */
data class AttentionRow(
    val item: AttentionItem,
    /** Short badge for the kind: "Overdue", "Due now", "Escalation", "Repeat failure". */
    val badge: String,
    /** The core's sentence (names the check, the site and people). */
    val message: String,
    /** The due time in the site's zone ("07:00"), for all but repeat failures. */
    val localDue: String?,
    /** "20 min overdue", "due now"… for all but repeat failures. */
    val dueText: String?,
    /** The check this row opens, for all but repeat failures. */
    val occurrence: UUID?,
    /** An escalation that reached me and is not yet acknowledged: offer "Acknowledge". */
    val canAcknowledge: Boolean,
    /** The escalation was computed on this phone alone (offline): not yet confirmed by the server. */
    val unconfirmed: Boolean,
    /** What TalkBack reads for the whole row. */
    val spoken: String,
)

/** One of my checks today that is not in the feed (later, or done). */
data class AgendaRow(
    val item: AgendaItem,
    val title: String,
    val localDue: String,
    val statusText: String,
    val note: String?,
    val occurrence: UUID,
    val done: Boolean,
)

/** What the Attention ("Today") screen shows. */
data class AttentionScreen(
    /** Urgency first, in the core's order. */
    val rows: List<AttentionRow>,
    /** My other checks today (later or already done), in due order. */
    val later: List<AgendaRow>,
    /** "All checks on track" when the feed is empty, else null. */
    val emptyText: String?,
    val siteNames: List<String>,
    val personName: String,
)

/** The Attention screen over the core's `attention` and `today`. */
class AttentionModel(private val session: ShiftSession) {
    fun load(): Outcome<AttentionScreen> = core {
        val now = session.clock.now()
        val device = session.device
        val org = session.org()
        val zones = org.sites.associate { it.id to it.timeZone }
        val feed = device.attention(now)
        val rows = feed.map { item ->
            val zone = zones[item.site] ?: java.time.ZoneId.systemDefault().id
            val due = item.due
            val status = item.status
            val localDue = due?.let { Formats.clockIn(it, zone) }
            val dueText = if (due != null && status != null) Formats.dueText(status, due, now) else null
            val badge = badge(item.kind)
            val escalation = item.escalation
            AttentionRow(
                item = item,
                badge = badge,
                message = item.message,
                localDue = localDue,
                dueText = dueText,
                occurrence = item.occurrence,
                canAcknowledge = escalation != null && !escalation.acknowledged,
                unconfirmed = escalation != null && !escalation.confirmedByServer,
                spoken = listOfNotNull(badge, item.message, dueText).joinToString(". "),
            )
        }
        val inFeed = feed.mapNotNull { it.occurrence }.toSet()
        val later = device.today(now).filter { it.occurrence.id !in inFeed }.map { agendaRow(it, now) }
        val me = session.me()
        AttentionScreen(
            rows = rows,
            later = later,
            emptyText = if (rows.isEmpty()) Copy.EMPTY_FEED else null,
            siteNames = org.sites.map { it.name },
            personName = me.name,
        )
    }

    /** Acknowledges an escalation level (silences its re-notification; the chain goes on). */
    fun acknowledge(row: AttentionRow): Outcome<Acknowledgement> = core {
        val escalation = row.item.escalation ?: throw IllegalArgumentException("not an escalation")
        session.device.acknowledge(escalation.id, session.clock.now())
    }

    companion object {
        fun badge(kind: AttentionKind): String = when (kind) {
            AttentionKind.OVERDUE -> "Overdue"
            AttentionKind.DUE_NOW -> "Due now"
            AttentionKind.ESCALATION -> "Escalation"
            AttentionKind.REPEAT_FAILURE -> "Repeat failure"
        }

        fun agendaRow(item: AgendaItem, now: java.time.Instant): AgendaRow {
            val done = item.status == Status.DONE_ON_TIME || item.status == Status.DONE_LATE || item.status == Status.EXCUSED
            val resolution = item.resolution
            val statusText = if (done && resolution != null) {
                "${Formats.statusLabel(item.status)} · ${resolution.byName} ${Formats.localClock(resolution.localAt)}"
            } else {
                Formats.dueText(item.status, item.occurrence.due, now)
            }
            return AgendaRow(
                item = item,
                title = item.routineTitle,
                localDue = Formats.localClock(item.localDue),
                statusText = statusText,
                note = item.assignmentNote,
                occurrence = item.occurrence.id,
                done = done,
            )
        }
    }
}
