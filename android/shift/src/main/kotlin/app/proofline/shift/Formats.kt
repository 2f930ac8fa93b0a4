package app.proofline.shift

import app.proofline.core.Status
import java.time.Duration
import java.time.Instant
import java.time.LocalDate
import java.time.LocalDateTime
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale

/**
 * How the screens write times and durations. Only formatting: statuses, windows and local
 * times come from the core; this turns them into short text. Local times are the site's
 * (the core gives them as ISO 8601 without offset, or an instant plus the site's zone).
 */
object Formats {
    private val clock24: DateTimeFormatter = DateTimeFormatter.ofPattern("HH:mm", Locale.ENGLISH)
    private val dayAndTime: DateTimeFormatter = DateTimeFormatter.ofPattern("EEE d MMM, HH:mm", Locale.ENGLISH)
    private val dayOnly: DateTimeFormatter = DateTimeFormatter.ofPattern("EEE d MMM", Locale.ENGLISH)

    /** "07:00" from the core's local time "2026-12-09T07:00:00". */
    fun localClock(local: String): String = LocalDateTime.parse(local).format(clock24)

    /** "Wed 9 Dec, 07:00" from the core's local time. */
    fun localDayAndTime(local: String): String = LocalDateTime.parse(local).format(dayAndTime)

    /** The local day ("2026-12-09") of the core's local time. */
    fun localDate(local: String): LocalDate = LocalDateTime.parse(local).toLocalDate()

    /** "Wed 9 Dec" for a day. */
    fun day(date: LocalDate): String = date.format(dayOnly)

    /** [instant] as a wall-clock time in [zone] (a site's IANA zone): "07:00". */
    fun clockIn(instant: Instant, zone: String): String =
        instant.atZone(ZoneId.of(zone)).format(clock24)

    /** [instant] as day and time in [zone]: "Wed 9 Dec, 07:00". */
    fun dayAndTimeIn(instant: Instant, zone: String): String =
        instant.atZone(ZoneId.of(zone)).format(dayAndTime)

    /** A span in whole minutes, short: "20 min", "1 h", "1 h 5 min", "2 d 3 h". */
    fun span(minutes: Long): String {
        val m = Math.abs(minutes)
        return when {
            m < 60 -> "$m min"
            m < 24 * 60 -> if (m % 60 == 0L) "${m / 60} h" else "${m / 60} h ${m % 60} min"
            else -> {
                val hours = (m % (24 * 60)) / 60
                if (hours == 0L) "${m / (24 * 60)} d" else "${m / (24 * 60)} d $hours h"
            }
        }
    }

    /** Whole minutes from [from] to [to] (negative when [to] is earlier), rounded down. */
    fun minutesBetween(from: Instant, to: Instant): Long = Duration.between(from, to).toMinutes()

    /**
     * Where a check stands relative to now, for a row: "due in 50 min", "due now",
     * "due 5 min ago", "20 min overdue", "Done on time"… The [status] is the core's; only
     * the distance to [due] is computed here.
     */
    fun dueText(status: Status, due: Instant, now: Instant): String {
        val minutes = minutesBetween(now, due) // > 0: in the future
        return when (status) {
            Status.UPCOMING, Status.OPEN ->
                if (minutes <= 0) "due now" else "due in ${span(minutes)}"
            Status.DUE -> if (minutes >= 0) "due now" else "due ${span(-minutes)} ago"
            Status.OVERDUE -> "${span(maxOf(-minutes, 0))} overdue"
            Status.MISSED -> "missed"
            else -> statusLabel(status)
        }
    }

    /** The status as a label. */
    fun statusLabel(status: Status): String = when (status) {
        Status.UPCOMING -> "Upcoming"
        Status.OPEN -> "Open"
        Status.DUE -> "Due"
        Status.OVERDUE -> "Overdue"
        Status.MISSED -> "Missed"
        Status.DONE_ON_TIME -> "Done on time"
        Status.DONE_LATE -> "Done late"
        Status.EXCUSED -> "Excused"
    }

    /**
     * When something happened on this phone, relative to now: "just now", "5 min ago",
     * "3 h ago", or a day and time in [zone] beyond a day.
     */
    fun ago(at: Instant, now: Instant, zone: ZoneId): String {
        val minutes = minutesBetween(at, now)
        return when {
            minutes < 1 -> "just now"
            minutes < 24 * 60 -> "${span(minutes)} ago"
            else -> at.atZone(zone).format(dayAndTime)
        }
    }

    /** An on-time percentage ("92 %"), or "—" when nothing was final yet. */
    fun percent(value: Double?): String = if (value == null) "—" else "${Math.round(value)} %"

    /** A clock offset in ms as whole minutes, rounded to the nearest, never negative. */
    fun offsetMinutes(offsetMs: Long): Long = Math.round(Math.abs(offsetMs) / 60_000.0)

    /** A reading's allowed range with its unit: "1–5 °C", "at least 0 kg", "at most 8 °C". */
    fun range(min: Double?, max: Double?, unit: String?): String? {
        val u = if (unit.isNullOrBlank()) "" else " $unit"
        return when {
            min != null && max != null -> "${number(min)}–${number(max)}$u"
            min != null -> "at least ${number(min)}$u"
            max != null -> "at most ${number(max)}$u"
            else -> null
        }
    }

    /** 5.0 as "5", 7.5 as "7.5". */
    fun number(value: Double): String =
        if (value == Math.rint(value) && Math.abs(value) < 1e15) value.toLong().toString() else value.toString()
}
