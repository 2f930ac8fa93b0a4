package app.proofline.shift

import app.proofline.core.Alert
import app.proofline.core.Reminder
import app.proofline.core.ReminderKind
import java.time.Instant
import java.util.UUID

/** Which notification channel a notification goes to. */
enum class Channel(val id: String, val title: String) {
    REMINDERS("reminders", "Check reminders"),
    ESCALATIONS("escalations", "Escalations"),
}

/** One notification to show, now or at [fireAt]. Tapping opens [occurrence] (when present). */
data class NotificationSpec(
    /** Android notification id: stable for the same reminder or check, so showing again replaces. */
    val id: Int,
    /** Android notification tag: the core's reminder id, or the collapse key (one per check). */
    val tag: String,
    val fireAt: Instant,
    val title: String,
    val body: String,
    val occurrence: UUID?,
    val channel: Channel,
)

/**
 * Local notifications from the core's `upcomingReminders` and `alerts`, and escalation pushes
 * from FCM. The texts are the core's (and the server's); this only gives them ids and channels.
 */
object NotificationPlan {
    /** The reminders to schedule; rescheduling with the same ids replaces them. */
    fun reminders(reminders: List<Reminder>): List<NotificationSpec> = reminders.map {
        NotificationSpec(
            id = idOf(it.id.toString()),
            tag = it.id.toString(),
            fireAt = it.fireAt,
            title = it.title,
            body = it.body,
            occurrence = it.occurrence,
            channel = if (it.kind == ReminderKind.ESCALATION) Channel.ESCALATIONS else Channel.REMINDERS,
        )
    }

    /** Alerts computed on the phone (shown offline too): one per check through the collapse key. */
    fun alerts(alerts: List<Alert>): List<NotificationSpec> =
        alerts.groupBy { it.collapseKey }.map { (key, group) ->
            val latest = group.maxByOrNull { it.dueAt }!!
            NotificationSpec(
                id = idOf(key),
                tag = key,
                fireAt = latest.dueAt,
                title = latest.title,
                body = latest.body,
                occurrence = latest.occurrence,
                channel = Channel.ESCALATIONS,
            )
        }

    /** A stable notification id for a key (the same key always gives the same id). */
    fun idOf(key: String): Int = key.hashCode() and 0x7fffffff
}

/**
 * An escalation push as FCM delivers it: the server's `data` (collapse_key, escalation_id,
 * occurrence_id, site_id, routine_id, level) and its notification title and body. The
 * collapse key (the occurrence id; one per person for a digest of reminders) is the
 * notification tag, so one check shows one notification and a newer digest replaces the
 * older.
 */
data class EscalationPush(
    val occurrence: UUID,
    val escalation: UUID?,
    val site: UUID?,
    val level: Int?,
    val title: String,
    val body: String,
    /** The server's collapse key when it sent one: per person for a digest of reminders. */
    val collapse: String? = null,
) {
    val collapseKey: String get() = collapse ?: occurrence.toString()

    fun notification(receivedAt: Instant) = NotificationSpec(
        id = NotificationPlan.idOf(collapseKey),
        tag = collapseKey,
        fireAt = receivedAt,
        title = title,
        body = body,
        occurrence = occurrence,
        channel = Channel.ESCALATIONS,
    )

    companion object {
        /** Null when the message is not an escalation (no valid occurrence_id). */
        fun parse(data: Map<String, String>, title: String?, body: String?): EscalationPush? {
            val occurrence = data["occurrence_id"]?.let(::uuidOrNull) ?: return null
            return EscalationPush(
                occurrence = occurrence,
                escalation = data["escalation_id"]?.let(::uuidOrNull),
                site = data["site_id"]?.let(::uuidOrNull),
                level = data["level"]?.toIntOrNull(),
                title = title ?: "",
                body = body ?: "",
                collapse = data["collapse_key"]?.takeIf { it.isNotBlank() },
            )
        }

        private fun uuidOrNull(text: String): UUID? = try {
            UUID.fromString(text)
        } catch (e: IllegalArgumentException) {
            null
        }
    }
}
