// Maria's shift through the generated Kotlin bindings, on the JVM, against the real server.
//
// Starts `proofline-server serve --demo` on a temporary data dir and a loopback port (the
// demo seeds Harbor Kitchen from examples/restaurant.toml and prints one-time enrollment
// codes), enrolls Maria's phone with her code in a temporary device folder, reads her
// attention feed and today's checks, captures the 12 MP fixture photo, completes the
// opening checks with it, gets the typed error for a missing fridge reading, completes that
// check properly, syncs, and sees the server accept the events and compute the same status.
// The server is always stopped (finally), the temporary folders always removed.
//
// Environment (scripts/test-kotlin sets it): PROOFLINE_SERVER_BIN (the server binary),
// PROOFLINE_PHOTO (forest-4032x3024-orient6.jpg). The library is found through
// -Djna.library.path.
//
// Time: the shift happens at a fixed instant (Wed 9 Dec 2026, 07:10 in New York: the opening
// checks are due at 07:00, so the feed and statuses are the same on every run); enrolling and
// syncing pass the real clock, as a phone would, so the server measures no clock skew.

import app.proofline.core.*
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.time.Instant
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

val ADMIN_TOKEN = "kotlin-scenario-admin-token-8c2e"
val SHIFT: Instant = Instant.parse("2026-12-09T12:10:00Z") // 07:10 America/New_York

fun expect(condition: Boolean, what: () -> String) {
    if (!condition) throw AssertionError(what())
}

fun <T> expectEqual(expected: T, actual: T, what: String) {
    if (expected != actual) throw AssertionError("$what: expected <$expected>, got <$actual>")
}

inline fun <reified E : Throwable> expectThrows(what: String, block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("$what: expected ${E::class.simpleName}, got $e", e)
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing was thrown")
}

fun step(text: String) = println("  - $text")

/** The real server, started on a loopback port; `stop()` ends it. */
class Server(bin: String, dataDir: File, log: File) {
    private val process: Process
    val url: String
    val codes = mutableMapOf<String, String>() // person's name -> one-time code

    init {
        process = ProcessBuilder(
            bin, "serve", "--data-dir", dataDir.path, "--listen", "127.0.0.1:0", "--demo",
        ).also {
            it.environment()["PROOFLINE_ADMIN_TOKEN"] = ADMIN_TOKEN
            it.environment()["RUST_LOG"] = "warn"
            // The scenario plays a day of its own: no dispatcher on the real clock.
            it.environment()["PROOFLINE_DISPATCH_TICK"] = "0"
            it.redirectError(log)
        }.start()
        // Read stdout on a thread so a silent server cannot hang the test; keep draining it.
        val lines = LinkedBlockingQueue<String>()
        Thread {
            process.inputStream.bufferedReader().forEachLine { lines.put(it) }
            lines.put("<eof>")
        }.apply { isDaemon = true }.start()
        var listening: String? = null
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        while (true) {
            val left = deadline - System.nanoTime()
            val line = lines.poll(maxOf(left, 0), TimeUnit.NANOSECONDS)
                ?: error("the server printed no admin token line within 60 s; log: ${log.readText()}")
            if (line == "<eof>") error("the server exited while starting; log: ${log.readText()}")
            val trimmed = line.trim()
            when {
                trimmed.startsWith("listening on ") -> listening = trimmed.removePrefix("listening on ")
                trimmed.startsWith("admin token:") -> break
                Regex("""^(.+?)\s{2,}\S+\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$""").matches(trimmed) -> {
                    val m = Regex("""^(.+?)\s{2,}\S+\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$""").find(trimmed)!!
                    codes[m.groupValues[1]] = m.groupValues[2]
                }
            }
        }
        url = listening ?: error("the server printed no listening line")
        expect(url.startsWith("http://127.0.0.1:")) { "the server must listen on the loopback only: $url" }
    }

    /** `GET` an admin route; the body as text. */
    fun admin(path: String): String {
        val request = HttpRequest.newBuilder(URI.create(url + path))
            .header("Authorization", "Bearer $ADMIN_TOKEN")
            .timeout(Duration.ofSeconds(30))
            .GET().build()
        val response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString())
        expectEqual(200, response.statusCode(), "GET $path (${response.body()})")
        return response.body()
    }

    fun stop() {
        process.destroy() // SIGTERM: the server finishes in-flight requests and closes.
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor(10, TimeUnit.SECONDS)
        }
    }
}

val serverBin = System.getenv("PROOFLINE_SERVER_BIN") ?: error("set PROOFLINE_SERVER_BIN")
val photoPath = System.getenv("PROOFLINE_PHOTO") ?: error("set PROOFLINE_PHOTO")
val tmp: File = Files.createTempDirectory("proofline-kotlin-").toFile()
val started = System.nanoTime()

println("Kotlin scenario: Maria's shift at Harbor Kitchen (temp dir $tmp)")
var server: Server? = null
try {
    server = Server(serverBin, File(tmp, "server-data"), File(tmp, "server.log"))
    val srv = server!!
    step("server listening on ${srv.url}; codes for ${srv.codes.keys.sorted()}")
    val code = srv.codes["Maria Lopez"] ?: error("no enrollment code for Maria Lopez: ${srv.codes}")

    // No device in an empty folder: a typed error, not a crash.
    val empty = File(tmp, "empty").apply { mkdirs() }
    val notFound = expectThrows<ProoflineException.NotFound>("opening an empty folder") {
        Device.open(empty.path)
    }
    expect(notFound.message!!.contains("no device is set up in")) { "NotFound says why: ${notFound.message}" }
    step("empty folder -> ProoflineException.NotFound: ${notFound.message}")

    // A wrong code: Unauthorized, with advice.
    val refused = expectThrows<ProoflineException.Unauthorized>("enrolling with a wrong code") {
        Device.enroll(File(tmp, "wrong").path, srv.url, "AAAA-BBBB-CCCC", "android", null, Instant.now())
    }
    expect(refused.message!!.contains("enrollment code")) { "Unauthorized says what to do: ${refused.message}" }
    step("wrong code -> ProoflineException.Unauthorized: ${refused.message}")

    // Enroll Maria's phone (the first sync pulls the site, people and routines).
    val dir = File(tmp, "maria-phone")
    Device.enroll(dir.path, srv.url, code, "android", "Maria's phone", Instant.now()).use { phone ->
        val org = phone.org()
        val maria = org.people.single { it.name == "Maria Lopez" }
        val harbor = org.sites.single()
        expectEqual(phone.identity().person, maria.id, "the device is Maria's")
        expectEqual("Harbor Kitchen", harbor.name, "site")
        expectEqual("America/New_York", harbor.timeZone, "site zone")
        expectEqual(listOf(SiteRole(harbor.id, Role.STAFF)), maria.roles, "Maria's roles")
        val status = phone.syncStatus()
        expectEqual(srv.url, status.server, "server address kept")
        expect(status.lastError == null) { "the first sync completed: ${status.lastError}" }
        step("enrolled ${phone.identity().device} for ${maria.name} at ${harbor.name}")
    }

    // Reopen the same folder, as the app does on every launch.
    Device.open(dir.path).use { phone ->
        val harbor = phone.org().sites.single()

        // 07:10 local: the opening checks (due 07:00, 15 min grace) are due now.
        val feed = phone.attention(SHIFT)
        expect(feed.isNotEmpty()) { "Maria's feed is not empty at 07:10" }
        val first = feed.first()
        expectEqual(AttentionKind.DUE_NOW, first.kind, "most urgent item kind (${first.message})")
        expectEqual(Status.DUE, first.status, "its status")
        expectEqual(Instant.parse("2026-12-09T12:00:00Z"), first.due, "its due time")
        expect(first.message.contains("Opening checks")) { "the message names the check: ${first.message}" }
        step("attention at 07:10: ${feed.map { "${it.kind}: ${it.message}" }}")

        val today = phone.today(SHIFT)
        val opening = today.single { it.routineKey == "opening-checks" }
        expectEqual(first.occurrence, opening.occurrence.id, "the feed item is today's opening checks")
        expectEqual("2026-12-09T07:00:00", opening.localDue, "local due time")
        val fridge = today.filter { it.routineKey == "fridge-temps" }
        expectEqual(
            listOf("06:00", "10:00", "14:00", "18:00", "22:00"),
            fridge.map { it.localDue.substring(11, 16) },
            "today's fridge readings",
        )
        step("today: ${today.map { "${it.localDue.substring(11, 16)} ${it.routineTitle} (${it.status})" }}")

        // The check screen: steps and proof requirements.
        val detail = phone.occurrence(opening.occurrence.id, SHIFT)
        expectEqual(listOf("handwash", "sanitizer", "line-photo"), detail.steps.map { it.key }, "steps")
        val photoStep = detail.steps.last()
        expectEqual(StepType.PHOTO, photoStep.kind, "photo step kind")
        expectEqual(1u, photoStep.minPhotos, "photos required")
        expectEqual("Maria Lopez", detail.assigneeName, "assignee")
        expect(detail.assignment.reason is AssignmentReason.Owner) { "Maria owns it: ${detail.assignment}" }
        expectEqual(3, detail.timeline.levels.size, "escalation levels")

        // Capture the 12 MP photo: upright (EXIF orientation 6), 1600 px, thumbnail.
        val t0 = System.nanoTime()
        val photo = phone.capturePhoto(File(photoPath).readBytes(), SHIFT)
        val captureMs = (System.nanoTime() - t0) / 1_000_000
        expectEqual(1200u to 1600u, photo.width to photo.height, "stored photo size")
        expectEqual(240u to 320u, photo.thumbWidth to photo.thumbHeight, "thumbnail size")
        expect(photo.sha256.matches(Regex("[0-9a-f]{64}"))) { "sha256 is hex: ${photo.sha256}" }
        val thumb = phone.thumbnail(photo.sha256) ?: error("the thumbnail is stored")
        expect(thumb.size > 1000 && thumb[0] == 0xFF.toByte() && thumb[1] == 0xD8.toByte()) { "a JPEG thumbnail" }
        step("captured ${photo.width}x${photo.height} (${photo.bytes} bytes) in $captureMs ms: ${photo.sha256}")

        // Complete the opening checks with the photo: done on time.
        val done = phone.complete(
            opening.occurrence.id,
            listOf(StepResult("handwash", StepAnswer.Checked), StepResult("sanitizer", StepAnswer.Checked)),
            listOf(photo.sha256),
            "all good",
            SHIFT,
        )
        val photoAnswer = done.results.single { it.step == "line-photo" }.answer
        expectEqual(StepAnswer.Photos(listOf(photo.sha256)), photoAnswer, "the photo is attached to its step")
        expectEqual(Status.DONE_ON_TIME, phone.occurrence(opening.occurrence.id, SHIFT).status, "status after completing")
        expect(phone.attention(SHIFT).none { it.occurrence == opening.occurrence.id }) { "the done check left the feed" }
        step("completed opening checks: ${done.id}")

        // The 06:00 fridge reading (missed at 07:10, still doable late) with one reading only.
        val sixAm = fridge.first()
        val missing = expectThrows<ProoflineException.ProofIncomplete>("completing without the reach-in reading") {
            phone.complete(
                sixAm.occurrence.id,
                listOf(StepResult("walk-in", StepAnswer.Reading(3.5, null))),
                emptyList(), null, SHIFT,
            )
        }
        expect(missing.message!!.startsWith("Line reach-in fridge: required, but not answered.")) {
            "the error names the missing reading: ${missing.message}"
        }
        expect(missing.message!!.contains("complete the check again")) { "and says what to do: ${missing.message}" }
        step("missing reading -> ProoflineException.ProofIncomplete: ${missing.message}")

        // Out of range needs a corrective action; with it, the check is done (late).
        val late = phone.complete(
            sixAm.occurrence.id,
            listOf(
                StepResult("walk-in", StepAnswer.Reading(7.5, "moved stock to the reach-in, called maintenance")),
                StepResult("reach-in", StepAnswer.Reading(4.0, null)),
            ),
            emptyList(), null, SHIFT,
        )
        expectEqual(Status.DONE_LATE, phone.occurrence(sixAm.occurrence.id, SHIFT).status, "late fridge reading")
        expectEqual(OutboxSummary(2uL, 0uL, 0uL, 0uL), phone.outboxSummary(), "two events pending before sync")
        expectEqual(1uL, phone.syncStatus().pendingUploads, "the photo waits for upload")

        // Sync with the real clock: photo and thumbnail uploaded, both events accepted.
        val report = phone.sync(Instant.now())
        expect(report.complete) { "the sync completed: ${report.errors}" }
        expectEqual(2u, report.pushed, "pushed")
        expectEqual(2u, report.accepted, "accepted by the server")
        expect(report.rejected.isEmpty()) { "nothing rejected: ${report.rejected}" }
        expectEqual(2u, report.uploadedBlobs, "photo and thumbnail uploaded")
        expect(!report.clockSkewWarning) { "no clock skew: ${report.clockOffsetMs} ms" }
        expectEqual(OutboxSummary(0uL, 2uL, 0uL, 0uL), phone.outboxSummary(), "outbox after sync")
        expectEqual(0uL, phone.syncStatus().pendingUploads, "no photo waiting")
        step("sync: pushed ${report.pushed}, accepted ${report.accepted}, uploaded ${report.uploadedBytes} bytes")

        // The server computes the same statuses from the events it accepted.
        val from = Instant.parse("2026-12-09T05:00:00Z")
        val until = Instant.parse("2026-12-10T05:00:00Z")
        val json = srv.admin("/v1/admin/sites/harbor/statuses?from=$from&until=$until&now=$SHIFT")
        for ((occurrence, completion, status) in listOf(
            Triple(opening.occurrence.id, done.id, "done_on_time"),
            Triple(sixAm.occurrence.id, late.id, "done_late"),
        )) {
            val row = Regex("""\{[^{}]*"occurrence":"$occurrence"[^{}]*\}""").find(json)?.value
                ?: error("the server lists $occurrence: $json")
            expect(row.contains("\"status\":\"$status\"")) { "server status of $occurrence is $status: $row" }
            expect(row.contains("\"counted_completion\":\"$completion\"")) { "server counts $completion: $row" }
        }
        val local = phone.statuses(harbor.id, from, until, SHIFT)
        expectEqual(Status.DONE_ON_TIME, local.single { it.occurrence == opening.occurrence.id }.status, "device status")
        step("server statuses agree: opening checks done_on_time, 06:00 fridge reading done_late")

        // Reminders for the rest of the day come from the same store, offline.
        val reminders = phone.upcomingReminders(SHIFT, Duration.ofHours(4))
        expect(reminders.any { it.kind == ReminderKind.DUE && it.title.contains("Fridge temperatures") }) {
            "the 10:00 fridge reading is in the next 4 h of reminders: $reminders"
        }
        expect(phone.verifyChain().intact) { "the hash chain is intact" }
    }
    println("Kotlin scenario passed in ${(System.nanoTime() - started) / 1_000_000} ms")
} finally {
    server?.stop()
    tmp.deleteRecursively()
}
