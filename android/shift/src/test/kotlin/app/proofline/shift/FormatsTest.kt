package app.proofline.shift

import app.proofline.core.Status
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.time.Instant
import java.time.ZoneId

/** The shell's formatting and parsing, with no core call. */
class FormatsTest {
    private val now = Instant.parse("2026-12-09T12:10:00Z")

    @Test
    fun `spans and due texts`() {
        assertEquals("20 min", Formats.span(20))
        assertEquals("1 h", Formats.span(60))
        assertEquals("1 h 5 min", Formats.span(65))
        assertEquals("2 d 3 h", Formats.span(2 * 24 * 60 + 180))
        assertEquals("20 min overdue", Formats.dueText(Status.OVERDUE, now.minusSeconds(20 * 60), now))
        assertEquals("due now", Formats.dueText(Status.DUE, now, now))
        assertEquals("due 10 min ago", Formats.dueText(Status.DUE, now.minusSeconds(600), now))
        assertEquals("due in 50 min", Formats.dueText(Status.OPEN, now.plusSeconds(3000), now))
        assertEquals("Done late", Formats.dueText(Status.DONE_LATE, now, now))
    }

    @Test
    fun `times in the site's zone`() {
        assertEquals("07:10", Formats.clockIn(now, "America/New_York"))
        assertEquals("13:10", Formats.clockIn(now, "Europe/Paris"))
        assertEquals("Wed 9 Dec, 07:00", Formats.localDayAndTime("2026-12-09T07:00:00"))
        assertEquals("07:00", Formats.localClock("2026-12-09T07:00:00"))
        assertEquals("5 min ago", Formats.ago(now.minusSeconds(300), now, ZoneId.of("UTC")))
        assertEquals("just now", Formats.ago(now, now, ZoneId.of("UTC")))
    }

    @Test
    fun `ranges, percentages and the clock-skew copy`() {
        assertEquals("1–5 °C", Formats.range(1.0, 5.0, "°C"))
        assertEquals("at least 0 kg", Formats.range(0.0, null, "kg"))
        assertNull(Formats.range(null, null, "kg"))
        assertEquals("7.5", Formats.number(7.5))
        assertEquals("92 %", Formats.percent(91.7))
        assertEquals("—", Formats.percent(null))
        assertEquals(20, Formats.offsetMinutes(-1_199_000))
        assertEquals("This phone's clock is off by 20 min — completions may be flagged", Copy.clockSkew(20))
        assertEquals("This phone's clock is off by 20 min — completions may be flagged", SyncModel.clockWarning(true, 1_200_000))
        assertNull(SyncModel.clockWarning(false, 1_200_000))
    }

    @Test
    fun `enrollment codes typed or scanned`() {
        assertEquals(EnrollLink("ABCD-EFGH-JKMN", null), EnrollLink.parse(" abcd efgh jkmn "))
        assertEquals(
            EnrollLink("ABCD-EFGH-JKMN", "https://sync.example.com"),
            EnrollLink.parse("proofline://enroll?server=https%3A%2F%2Fsync.example.com&code=abcd-efgh-jkmn"),
        )
        assertEquals(EnrollLink("ABCD-EFGH-JKMN", "http://10.0.2.2:8080"), EnrollLink.parse("https://x.example/enroll?code=ABCDEFGHJKMN&server=http://10.0.2.2:8080"))
    }

    @Test
    fun `a signature pad encodes its strokes and reads them back`() {
        var pad = SignaturePad()
        assertTrue(pad.isEmpty)
        pad = pad.startStroke(SignaturePad.Point(1f, 2f), 300f, 120f).extendStroke(SignaturePad.Point(3.25f, 4f))
        pad = pad.startStroke(SignaturePad.Point(10f, 10f), 300f, 120f)
        assertFalse(pad.isEmpty)
        val data = pad.encode()
        assertEquals("M1 2 L3 4 M10 10", data, "the same SVG path data as the iOS app")
        val back = SignaturePad.decode(data)!!
        assertEquals(listOf(listOf(SignaturePad.Point(1f, 2f), SignaturePad.Point(3f, 4f)), listOf(SignaturePad.Point(10f, 10f))), back.strokes)
        assertNull(SignaturePad.decode("not a path"))
        assertTrue(pad.cleared().isEmpty)
    }

    @Test
    fun `typed readings are parsed with either decimal separator, anything else is NaN for the core to name`() {
        assertTrue(StepInput.parseNumber("7,5") == 7.5)
        assertTrue(StepInput.parseNumber(" 7.5 ") == 7.5)
        assertTrue(StepInput.parseNumber("seven").isNaN())
    }
}
