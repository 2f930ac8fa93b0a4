package app.proofline.shift

import app.proofline.core.Absence
import app.proofline.core.ComplianceCounts
import app.proofline.core.Excuse
import app.proofline.core.MissedItem
import app.proofline.core.Person
import app.proofline.core.Site
import app.proofline.core.StepAnswer
import app.proofline.core.Status
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneId
import java.util.UUID

/** One missed or late check in Review. */
data class MissedRow(
    val item: MissedItem,
    val title: String,
    /** "07:00" in the site's zone. */
    val localDue: String,
    /** "Missed" or "Done late · 40 min late by Maria Lopez". */
    val outcome: String,
    val assignee: String,
    val note: String?,
    val occurrence: UUID,
    /** Missed (not done): "Excuse" applies. */
    val missed: Boolean,
)

/** The missed and late checks of one local day. */
data class ReviewDay(val date: LocalDate, val label: String, val rows: List<MissedRow>)

/** One compliance row: a routine, a person, or the site's totals. */
data class ComplianceRow(
    val name: String,
    val onTime: String,
    val counts: ComplianceCounts,
    /** "8 on time · 1 late · 1 missed · 0 excused". */
    val detail: String,
)

/** What the Review screen shows for one site and period. */
data class ReviewScreen(
    val site: Site,
    /** "Thu 3 Dec – Wed 9 Dec" in the site's zone. */
    val period: String,
    val days: List<ReviewDay>,
    val totals: ComplianceRow,
    val routines: List<ComplianceRow>,
    val people: List<ComplianceRow>,
    /** People of the site an absence can be recorded for. */
    val members: List<Person>,
)

/** A proof photo of a completion, with its thumbnail when this phone holds it. */
data class ProofThumbnail(val sha256: String, val step: String, val jpeg: ByteArray?) {
    /** "Pending upload" style state: the thumbnail has not reached this phone yet. */
    val pending: Boolean get() = jpeg == null

    override fun equals(other: Any?) = other is ProofThumbnail && other.sha256 == sha256 && other.step == step
    override fun hashCode() = sha256.hashCode() * 31 + step.hashCode()
}

/**
 * Review, for supervisors and leads: missed and late checks by local day, compliance per
 * routine and per person, proof thumbnails, excuse with a reason, record an absence. Periods
 * are whole local days in the site's zone; every figure is the core's.
 */
class ReviewModel(private val session: ShiftSession) {
    /** The sites this person reviews (empty: no Review tab). */
    fun sites(): List<Site> = session.reviewSites()

    /** The last [days] local days of [site], today included. */
    fun load(site: UUID, days: Int = 7): Outcome<ReviewScreen> = core {
        val now = session.clock.now()
        val s = session.site(site) ?: throw IllegalArgumentException("unknown site $site")
        val zone = ZoneId.of(s.timeZone)
        val today = now.atZone(zone).toLocalDate()
        val firstDay = today.minusDays((days - 1).toLong())
        val from = firstDay.atStartOfDay(zone).toInstant()
        val until = today.plusDays(1).atStartOfDay(zone).toInstant()
        val device = session.device
        val missed = device.missed(site, from, until, now)
        val report = device.compliance(site, from, until, now)
        val byDay = missed.groupBy { Formats.localDate(it.localDue) }.toSortedMap(compareByDescending { it })
        val org = session.org()
        ReviewScreen(
            site = s,
            period = "${Formats.day(firstDay)} – ${Formats.day(today)}",
            days = byDay.map { (date, items) -> ReviewDay(date, Formats.day(date), items.map(::missedRow)) },
            totals = complianceRow(report.siteName, report.totals),
            routines = report.routines.map { complianceRow(it.routineTitle, it.counts) },
            people = report.people.map { complianceRow(it.name, it.counts) },
            members = org.people.filter { p -> p.roles.any { it.site == site } },
        )
    }

    /** The proof photos of the completion that counts for [occurrence] (else every completion's). */
    fun proof(occurrence: UUID): Outcome<List<ProofThumbnail>> = core {
        val device = session.device
        val detail = device.occurrence(occurrence, session.clock.now())
        val completions = detail.completions.filter { it.counts }.ifEmpty { detail.completions }
        completions.flatMap { c ->
            c.results.flatMap { r ->
                val answer = r.answer
                if (answer is StepAnswer.Photos) answer.sha256.map { it to r.step } else emptyList()
            }
        }.distinct().map { (sha, step) -> ProofThumbnail(sha, step, device.thumbnail(sha)) }
    }

    /** Excuses a check with a reason (the core checks the role and that there is a reason). */
    fun excuse(occurrence: UUID, reason: String): Outcome<Excuse> = core {
        session.device.excuse(occurrence, reason, session.clock.now())
    }

    /**
     * Records that [person] is away from the start of [firstDay] to the end of [lastDay]
     * (local days in the site's zone); their checks go to the backup.
     */
    fun recordAbsence(site: UUID, person: UUID, firstDay: LocalDate, lastDay: LocalDate, reason: String): Outcome<Absence> = core {
        val zone = ZoneId.of(session.zoneOf(site))
        val from: Instant = firstDay.atStartOfDay(zone).toInstant()
        val until: Instant = lastDay.plusDays(1).atStartOfDay(zone).toInstant()
        session.device.recordAbsence(person, from, until, reason.trim().ifEmpty { null }, session.clock.now())
    }

    companion object {
        fun missedRow(item: MissedItem): MissedRow {
            val missed = item.status == Status.MISSED
            val outcome = if (missed) {
                Formats.statusLabel(item.status)
            } else {
                listOfNotNull(
                    Formats.statusLabel(item.status),
                    item.lateByText?.let { "$it late" },
                    item.doneByName?.let { "by $it" },
                ).joinToString(" · ")
            }
            return MissedRow(
                item = item,
                title = item.routineTitle,
                localDue = Formats.localClock(item.localDue),
                outcome = outcome,
                assignee = item.assigneeName,
                note = item.assignmentNote,
                occurrence = item.occurrence.id,
                missed = missed,
            )
        }

        fun complianceRow(name: String, c: ComplianceCounts) = ComplianceRow(
            name = name,
            onTime = Formats.percent(c.onTimePercent),
            counts = c,
            detail = "${c.onTime} on time · ${c.late} late · ${c.missed} missed · ${c.excused} excused",
        )
    }
}
