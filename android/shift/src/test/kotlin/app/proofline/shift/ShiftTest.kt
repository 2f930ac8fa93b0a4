package app.proofline.shift

import app.proofline.core.AttentionKind
import app.proofline.core.ProblemKind
import app.proofline.core.ProoflineException
import app.proofline.core.ReminderKind
import app.proofline.core.Role
import app.proofline.core.Status
import app.proofline.core.StepAnswer
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import java.io.File
import java.nio.file.Files
import java.time.Duration
import java.time.Instant
import java.time.LocalDate
import java.util.UUID

/**
 * Maria's shift at Harbor Kitchen through the shell's screen models, against the real core
 * library and a real `proofline-server --demo` this class starts on the loopback (and stops
 * in [stopServer]). Ordered: each test continues the shift where the previous one left it.
 *
 * Time: the shift happens at a fixed instant (Wed 9 Dec 2026, 07:10 in New York; the opening
 * checks are due at 07:00), so the feed is the same on every run; enrolling and syncing use
 * the real clock, as a phone does, so the server measures no skew (one test skews it on
 * purpose).
 *
 * Environment (scripts/test-android sets it): PROOFLINE_SERVER_BIN, PROOFLINE_PHOTO; the
 * library through -Djna.library.path.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class ShiftTest {
    private val shift: Instant = Instant.parse("2026-12-09T12:10:00Z") // 07:10 America/New_York
    private lateinit var tmp: File
    private lateinit var server: TestServer
    private lateinit var photo: ByteArray

    /** The phone's clock: the fixed shift instant, or the real clock (plus a skew) for network calls. */
    private var realClock = false
    private var skew: Duration = Duration.ZERO
    private val clock = Clock { if (realClock) Instant.now().plus(skew) else shift }

    private lateinit var maria: ShiftSession
    private lateinit var dana: ShiftSession
    private lateinit var opening: UUID
    private lateinit var sixAmFridge: UUID
    private lateinit var tenAmFridge: UUID

    @BeforeAll
    fun startServer() {
        val bin = System.getenv("PROOFLINE_SERVER_BIN") ?: error("set PROOFLINE_SERVER_BIN")
        photo = File(System.getenv("PROOFLINE_PHOTO") ?: error("set PROOFLINE_PHOTO")).readBytes()
        tmp = Files.createTempDirectory("proofline-android-").toFile()
        server = TestServer(bin, File(tmp, "server-data"), File(tmp, "server.log"))
        maria = ShiftSession(File(tmp, "maria-phone").path, clock)
        dana = ShiftSession(File(tmp, "dana-phone").path, clock)
    }

    @AfterAll
    fun stopServer() {
        if (::maria.isInitialized) maria.close()
        if (::dana.isInitialized) dana.close()
        if (::server.isInitialized) server.stop()
        if (::tmp.isInitialized) tmp.deleteRecursively()
    }

    private fun <T> network(block: () -> T): T {
        realClock = true
        try {
            return block()
        } finally {
            realClock = false
        }
    }

    private fun <T> Outcome<T>.done(what: String): T = when (this) {
        is Outcome.Done -> value
        is Outcome.Failed -> throw AssertionError("$what failed: ${failure.remedy}: ${failure.message}")
    }

    private fun Outcome<*>.failure(what: String): CoreFailure = when (this) {
        is Outcome.Failed -> failure
        is Outcome.Done -> throw AssertionError("$what: expected the core to refuse, got $value")
    }

    @Test
    @Order(1)
    fun `an empty folder shows Enroll, a wrong code shows the core's sentence, the right code joins`() {
        assertEquals(false, maria.open().done("opening an empty folder"), "no device yet: the Enroll screen")

        val enroll = EnrollModel(maria)
        assertFalse(enroll.canJoin, "Join site is disabled while the fields are empty")
        enroll.onServerChange(server.url)
        enroll.onCodeChange("aaaa bbbb cccc")
        assertEquals("AAAA-BBBB-CCCC", enroll.normalizedCode())
        assertTrue(enroll.canJoin)
        assertFalse(network { enroll.join("Maria's phone") })
        val refused = enroll.error ?: throw AssertionError("a refused code shows an error")
        assertTrue(refused.contains("enrollment code"), "the core's sentence says what to do: $refused")
        assertFalse(maria.isReady)

        val code = server.codes["Maria Lopez"] ?: error("no code for Maria: ${server.codes}")
        enroll.onScanned("proofline://enroll?server=${server.url}&code=${code.lowercase().replace("-", "")}")
        assertEquals(code, enroll.normalizedCode(), "the scanned code")
        assertNull(enroll.error, "editing clears the error")
        assertTrue(network { enroll.join("Maria's phone") }, "enrolled: ${enroll.error}")
        assertEquals("Maria Lopez", maria.me().name)
        assertEquals("America/New_York", maria.org().sites.single().timeZone)
        assertTrue(maria.reviewSites().isEmpty(), "staff get no Review tab")

        // Reopen the folder as the app does on every launch.
        maria.close()
        assertEquals(true, maria.open().done("reopening"))
        assertEquals("Maria Lopez", maria.me().name)
    }

    @Test
    @Order(2)
    fun `the attention feed puts the opening checks first, due now, in the site's time`() {
        val screen = AttentionModel(maria).load().done("loading Attention")
        assertNull(screen.emptyText, "not empty at 07:10")
        val first = screen.rows.first()
        assertEquals(AttentionKind.DUE_NOW, first.item.kind, "most urgent: ${screen.rows.map { it.message }}")
        assertEquals("Due now", first.badge)
        assertTrue(first.message.contains("Opening checks"), first.message)
        assertEquals("07:00", first.localDue, "due time in New York")
        assertEquals("due 10 min ago", first.dueText)
        assertEquals(first.message, first.item.message, "the core's sentence, verbatim")
        assertTrue(first.spoken.startsWith("Due now. "), first.spoken)
        opening = first.occurrence!!

        val today = maria.device.today(shift)
        val fridge = today.filter { it.routineKey == "fridge-temps" }
        sixAmFridge = fridge.first { it.localDue.endsWith("T06:00:00") }.occurrence.id
        tenAmFridge = fridge.first { it.localDue.endsWith("T10:00:00") }.occurrence.id
        val feedIds = screen.rows.mapNotNull { it.occurrence }.toSet()
        val later = screen.later.first { it.occurrence == tenAmFridge }
        assertEquals("10:00", later.localDue)
        assertEquals("due in 2 h 50 min", later.statusText)
        assertTrue(screen.later.none { it.occurrence in feedIds }, "the later list repeats nothing from the feed")
    }

    @Test
    @Order(3)
    fun `the opening checks are completed with a photo, submit enabled once the core finds nothing missing`() {
        val check = CheckModel(maria, opening)
        val detail = check.load().done("loading the check")
        assertEquals("Opening checks", detail.routineTitle)
        assertEquals(listOf("handwash", "sanitizer", "line-photo"), check.steps().map { it.step.key })
        assertFalse(check.canSubmit, "nothing entered yet")
        assertEquals(listOf("handwash", "sanitizer", "line-photo"), check.problems!!.map { it.step }, "the core names every required step")
        for (view in check.steps()) {
            val problem = check.problems!!.single { it.step == view.step.key }
            assertEquals(problem.message, view.message, "the core's sentence on its step, verbatim")
        }
        assertTrue(check.steps().first().isUnanswered)

        check.setTick("handwash", true)
        check.setTick("sanitizer", true)
        assertFalse(check.canSubmit, "the photo is still missing")
        assertEquals(listOf("line-photo"), check.problems!!.map { it.step })
        assertNull(check.steps().first().message, "the ticked step's problem is gone")
        assertNotNull(check.steps().single { it.step.key == "line-photo" }.message)

        val taken = check.takePhoto("line-photo", photo).done("capturing the photo")
        assertEquals(1200u to 1600u, taken.width to taken.height, "stored upright at 1600 px")
        val retaken = check.takePhoto("line-photo", photo, replacing = 0).done("retaking the photo")
        val photos = (check.input("line-photo") as StepInput.Photos).photos
        assertEquals(listOf(retaken), photos, "a retake replaces, it does not add")
        val thumb = check.thumbnail(retaken) ?: throw AssertionError("the thumbnail is stored")
        assertTrue(thumb.size > 1000 && thumb[0] == 0xFF.toByte() && thumb[1] == 0xD8.toByte(), "a JPEG thumbnail")
        assertEquals(emptyList<Any>(), check.problems, "the core finds nothing missing")
        assertTrue(check.canSubmit, "every step answered")
        assertTrue(check.steps().all { it.message == null })

        val done = check.submit().done("completing the opening checks")
        assertEquals(StepAnswer.Photos(listOf(retaken.sha256)), done.results.single { it.step == "line-photo" }.answer)
        assertEquals(Status.DONE_ON_TIME, check.detail!!.status, "reloaded after completing")
        assertFalse(check.canSubmit, "done: nothing more to submit")
        assertNull(check.problems, "a done check is not asked about")
        assertNull(check.message)

        val feed = AttentionModel(maria).load().done("reloading Attention")
        assertTrue(feed.rows.none { it.occurrence == opening }, "the done check left the feed")
        val row = feed.later.single { it.occurrence == opening }
        assertTrue(row.done)
        assertEquals("Done on time · Maria Lopez 07:10", row.statusText)
    }

    @Test
    @Order(4)
    fun `an out-of-range reading gets the core's message on its step and the corrective-action prompt before submitting`() {
        val check = CheckModel(maria, sixAmFridge)
        check.load().done("loading the 06:00 fridge reading")
        val walkIn = check.steps().single { it.step.key == "walk-in" }
        assertEquals("1–5 °C", walkIn.range)
        assertFalse(walkIn.showCorrectivePrompt)
        assertTrue(walkIn.isUnanswered, "${walkIn.problem}")

        check.setReading("walk-in", "7,5")
        assertFalse(check.canSubmit, "the reach-in reading is required and empty")
        assertTrue(check.steps().single { it.step.key == "reach-in" }.isUnanswered)
        check.setReading("reach-in", "4")

        // Nothing submitted yet: the core's dry run already refuses 7.5 °C without a corrective action.
        assertFalse(check.canSubmit, "7.5 °C needs a corrective action")
        assertNull(check.message, "nothing was submitted")
        val problem = check.problems!!.single()
        assertEquals("walk-in", problem.step)
        assertEquals(ProblemKind.OutOfRange(7.5, "°C", 1.0, 5.0), problem.problem)
        var steps = check.steps().associateBy { it.step.key }
        assertEquals("Walk-in cooler: 7.5 °C is outside 1–5 °C; add a corrective action", steps.getValue("walk-in").message)
        assertEquals(problem.message, steps.getValue("walk-in").message, "the core's sentence, verbatim")
        assertTrue(steps.getValue("walk-in").isOutOfRange)
        assertTrue(steps.getValue("walk-in").showCorrectivePrompt, "the corrective-action prompt opens on the walk-in step")
        assertNull(steps.getValue("reach-in").message, "nothing on the reach-in step")
        assertFalse(steps.getValue("reach-in").showCorrectivePrompt)
        assertTrue(check.otherProblems.isEmpty())

        // The core still refuses a completion attempted anyway: its sentence is shown verbatim.
        val refused = check.submit().failure("completing with 7.5 °C and no corrective action")
        assertEquals(Remedy.FIX_INPUT, refused.remedy)
        assertEquals(refused.message, check.message, "the core's whole sentence is shown")
        assertTrue(refused.message.contains(problem.message), refused.message)
        assertFalse(check.canSubmit)

        check.setCorrectiveAction("walk-in", "Moved stock to the reach-in, called maintenance")
        assertEquals(emptyList<Any>(), check.problems, "the corrective action answers the core's problem")
        assertNull(check.message, "the refusal of the old input is cleared")
        steps = check.steps().associateBy { it.step.key }
        assertNull(steps.getValue("walk-in").message)
        assertTrue(steps.getValue("walk-in").showCorrectivePrompt, "the prompt stays while its answer is written")
        assertTrue(check.canSubmit)
        check.submit().done("completing with the corrective action")
        assertEquals(Status.DONE_LATE, check.detail!!.status)
        assertTrue(check.steps().all { it.message == null }, "no messages left")
        assertFalse(check.canSubmit)
    }

    @Test
    @Order(5)
    fun `the sync screen shows what waits, syncing sends it, and the screen shows it sent`() {
        val model = SyncModel(maria)
        val before = model.load().done("loading Sync")
        assertEquals(
            listOf(Copy.WAITING_TO_SYNC to "2", Copy.PHOTOS_WAITING to "1"),
            before.rows.take(2).map { it.label to it.value },
        )
        assertEquals(Copy.LAST_SYNCED, before.rows[2].label)
        assertNull(before.clockWarning)

        val report = network { model.syncNow() }.done("syncing")
        assertTrue(report.complete, "sync completed: ${report.errors}")
        assertEquals(2u, report.accepted)
        assertEquals(2u, report.uploadedBlobs, "photo and thumbnail uploaded")
        assertFalse(report.clockSkewWarning)

        val after = network { model.load() }.done("reloading Sync")
        assertEquals(
            listOf(Copy.WAITING_TO_SYNC to "0", Copy.PHOTOS_WAITING to "0", Copy.LAST_SYNCED to "just now"),
            after.rows.map { it.label to it.value },
        )
        assertNull(after.lastError)
        assertTrue(after.rejected.isEmpty())
        assertNull(after.clockWarning)

        // The server computed the same statuses from the events it accepted.
        val json = server.admin(
            "/v1/admin/sites/harbor/statuses?from=2026-12-09T05:00:00Z&until=2026-12-10T05:00:00Z&now=$shift",
        )
        for ((occurrence, status) in listOf(opening to "done_on_time", sixAmFridge to "done_late")) {
            val row = Regex("""\{[^{}]*"occurrence":"$occurrence"[^{}]*\}""").find(json)?.value
                ?: throw AssertionError("the server lists $occurrence")
            assertTrue(row.contains("\"status\":\"$status\""), row)
        }
    }

    @Test
    @Order(6)
    fun `a lead reviews the day offline after one sync - late by day, compliance, proof thumbnails`() {
        val enroll = EnrollModel(dana, server.url)
        enroll.onCodeChange(server.codes["Dana Kim"] ?: error("no code for Dana"))
        assertTrue(network { enroll.join("Dana's phone") }, "Dana enrolled: ${enroll.error}")
        val review = ReviewModel(dana)
        val harbor = review.sites().single()
        assertEquals("Harbor Kitchen", harbor.name)
        assertEquals(listOf(Role.LEAD), dana.me().roles.map { it.role })

        val screen = review.load(harbor.id, days = 7).done("loading Review")
        assertEquals("Thu 3 Dec – Wed 9 Dec", screen.period)
        val wednesday = screen.days.first { it.date == LocalDate.of(2026, 12, 9) }
        assertEquals("Wed 9 Dec", wednesday.label)
        val late = wednesday.rows.single { it.occurrence == sixAmFridge }
        assertEquals("06:00", late.localDue)
        assertFalse(late.missed)
        assertTrue(late.outcome.startsWith("Done late · ") && late.outcome.endsWith(" late · by Maria Lopez"), late.outcome)
        assertTrue(screen.routines.any { it.name == "Fridge temperatures" }, "${screen.routines}")
        val mariaRow = screen.people.single { it.name == "Maria Lopez" }
        assertTrue(mariaRow.counts.onTime >= 1u && mariaRow.counts.late >= 1u, mariaRow.detail)
        assertEquals("Harbor Kitchen", screen.totals.name)
        assertTrue(screen.members.any { it.name == "Luis Ortega" })

        val proof = review.proof(opening).done("loading proof")
        assertEquals(1, proof.size, "one proof photo")
        assertEquals("line-photo", proof.single().step)
        assertNotNull(proof.single().jpeg, "the thumbnail synced to the lead's phone")
        assertFalse(proof.single().pending)
    }

    @Test
    @Order(7)
    fun `excuse needs a reason and the role, absences are recorded, the sync status warns of clock skew`() {
        val review = ReviewModel(dana)
        val harbor = review.sites().single()
        val blank = review.excuse(tenAmFridge, "  ").failure("excusing without a reason")
        assertEquals(Remedy.FIX_INPUT, blank.remedy)
        assertTrue(blank.message.contains("reason"), blank.message)

        val staff = ReviewModel(maria).excuse(tenAmFridge, "walk-in being serviced").failure("staff excusing")
        assertEquals(Remedy.NOT_ALLOWED, staff.remedy, staff.message)

        val excuse = review.excuse(tenAmFridge, "Walk-in being serviced").done("excusing")
        assertEquals("Walk-in being serviced", excuse.reason)
        assertEquals(Status.EXCUSED, dana.device.occurrence(tenAmFridge, shift).status)

        val luis = dana.org().people.single { it.name == "Luis Ortega" }
        val absence = review.recordAbsence(harbor.id, luis.id, LocalDate.of(2026, 12, 10), LocalDate.of(2026, 12, 11), "Annual leave")
            .done("recording an absence")
        assertEquals(Instant.parse("2026-12-10T05:00:00Z"), absence.from, "from the start of 10 Dec in New York")
        assertEquals(Instant.parse("2026-12-12T05:00:00Z"), absence.until, "to the end of 11 Dec")

        // A phone whose clock is 20 minutes fast: the core measures it, the screen warns.
        skew = Duration.ofMinutes(20)
        try {
            val sync = SyncModel(dana)
            val report = network { sync.syncNow() }.done("syncing with a skewed clock")
            assertTrue(report.clockSkewWarning, "the core flags the skew: ${report.clockOffsetMs}")
            val screen = network { sync.load() }.done("loading Sync")
            assertEquals(Copy.clockSkew(20), screen.clockWarning)
            assertEquals("This phone's clock is off by 20 min — completions may be flagged", screen.clockWarning)
        } finally {
            skew = Duration.ZERO
        }
    }

    @Test
    @Order(8)
    fun `reminders and alerts become notifications with stable ids, one per check`() {
        val reminders = maria.device.upcomingReminders(shift, Duration.ofHours(4))
        val specs = NotificationPlan.reminders(reminders)
        assertEquals(reminders.size, specs.size)
        val due = reminders.indices.first { reminders[it].kind == ReminderKind.DUE && reminders[it].title.contains("Fridge temperatures") }
        assertEquals(reminders[due].title, specs[due].title, "the core's title, verbatim")
        assertEquals(reminders[due].occurrence, specs[due].occurrence, "tapping opens the check")
        assertEquals(specs.map { it.id }, NotificationPlan.reminders(maria.device.upcomingReminders(shift, Duration.ofHours(4))).map { it.id }, "stable ids")
        assertEquals(specs.size, specs.map { it.tag }.toSet().size)

        val alerts = dana.device.alerts(Instant.parse("2026-12-09T23:00:00Z"))
        val alertSpecs = NotificationPlan.alerts(alerts)
        assertEquals(alerts.map { it.collapseKey }.toSet().size, alertSpecs.size, "one notification per check")
        assertTrue(alertSpecs.all { it.channel == Channel.ESCALATIONS })

        val occurrence = UUID.randomUUID()
        val push = EscalationPush.parse(
            mapOf(
                "escalation_id" to UUID.randomUUID().toString(), "occurrence_id" to occurrence.toString(),
                "site_id" to UUID.randomUUID().toString(), "routine_id" to UUID.randomUUID().toString(), "level" to "2",
            ),
            "Fridge temperatures · Harbor Kitchen", "Fridge temperatures is 20 min overdue",
        ) ?: throw AssertionError("an escalation push")
        assertEquals(occurrence.toString(), push.collapseKey)
        assertEquals(2, push.level)
        val n = push.notification(shift)
        assertEquals(occurrence.toString(), n.tag)
        assertEquals(occurrence, n.occurrence)
        assertNull(EscalationPush.parse(mapOf("level" to "1"), "x", "y"), "not an escalation")
        // A digest of reminders collapses per person, apart from the check it opens.
        val digest = EscalationPush.parse(
            mapOf("occurrence_id" to occurrence.toString(), "collapse_key" to "reminders-sam", "level" to "2"),
            "3 checks still waiting (Harbor Kitchen)", "Not done and not acknowledged: …",
        ) ?: throw AssertionError("a digest push")
        assertEquals("reminders-sam", digest.notification(shift).tag)
        assertEquals(occurrence, digest.notification(shift).occurrence)
    }

    @Test
    @Order(9)
    fun `a check of a device with no enrollment is refused with the core's sentence`() {
        val lost = ShiftSession(File(tmp, "nowhere").path, clock)
        assertEquals(false, lost.open().done("opening"))
        try {
            lost.device
            throw AssertionError("no device without enrolling")
        } catch (e: IllegalStateException) {
            // expected
        }
        val missing = CheckModel(maria, UUID.randomUUID()).load().failure("loading an unknown check")
        assertEquals(Remedy.ENROLL_OR_SYNC, missing.remedy, missing.message)
        assertTrue(ProoflineException.NotFound::class.simpleName == "NotFound")
    }
}
