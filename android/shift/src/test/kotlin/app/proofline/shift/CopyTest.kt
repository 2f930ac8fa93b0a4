package app.proofline.shift

import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File

/** The shared copy in [Copy] is the one docs/screens.md lists for both apps, word for word. */
class CopyTest {
    private fun screensDoc(): String {
        val candidates = listOf("docs/screens.md", "../docs/screens.md", "../../docs/screens.md")
        val file = candidates.map(::File).firstOrNull { it.isFile }
            ?: throw AssertionError("docs/screens.md not found from ${File(".").absolutePath}")
        return file.readText()
    }

    @Test
    fun `every shared string is in docs-screens-md`() {
        val doc = screensDoc()
        val shared = listOf(
            Copy.ENROLL_TITLE, Copy.ATTENTION_TITLE, Copy.ATTENTION_TAB, Copy.CHECK_TITLE, Copy.REVIEW_TITLE,
            Copy.SYNC_TITLE, Copy.EMPTY_FEED, Copy.OFFLINE_BANNER, Copy.COMPLETE_CHECK, Copy.TAKE_PHOTO,
            Copy.RETAKE, Copy.OUT_OF_RANGE_TITLE, Copy.EXCUSE, Copy.REASON, Copy.RECORD_ABSENCE,
            Copy.WAITING_TO_SYNC, Copy.PHOTOS_WAITING, Copy.LAST_SYNCED, Copy.ENROLLMENT_CODE, Copy.JOIN_SITE,
            Copy.SERVER_ADDRESS, Copy.SCAN_CODE, Copy.LATER_TODAY, Copy.ACKNOWLEDGE, Copy.SYNC_NOW, Copy.NEVER,
            Copy.SIGN_HERE, Copy.CLEAR_SIGNATURE, Copy.MISSED_AND_LATE, Copy.BY_ROUTINE, Copy.BY_PERSON,
        )
        for (text in shared) assertTrue(doc.contains("\"$text\""), "docs/screens.md lists \"$text\"")
        assertTrue(doc.contains("\"" + Copy.clockSkew(0).replace("0 min", "N min") + "\""), "the clock-skew warning")
    }
}
