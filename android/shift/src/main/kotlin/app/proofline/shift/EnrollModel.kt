package app.proofline.shift

import java.net.URI
import java.net.URLDecoder
import java.nio.charset.StandardCharsets

/**
 * The Enroll screen: the one-time code (typed or scanned) and the server address. The code's
 * check is the server's: a refused code comes back as the core's `Unauthorized` sentence.
 */
class EnrollModel(private val session: ShiftSession, defaultServer: String = "") {
    var code: String = ""
        private set
    var server: String = defaultServer
        private set
    var error: String? = null
        private set
    var busy: Boolean = false
        private set

    fun onCodeChange(text: String) {
        code = text
        error = null
    }

    fun onServerChange(text: String) {
        server = text
        error = null
    }

    /** A scanned QR code: `proofline://enroll?server=…&code=…`, an https link with the same query, or the bare code. */
    fun onScanned(payload: String) {
        val link = EnrollLink.parse(payload)
        code = link.code
        if (link.server != null) server = link.server
        error = null
    }

    /** "Join site" is enabled once both fields hold something. */
    val canJoin: Boolean get() = !busy && normalizedCode().isNotEmpty() && server.isNotBlank()

    /** The code as the server issues it: upper case, groups of four joined by dashes. */
    fun normalizedCode(): String = EnrollLink.normalize(code)

    /** Enrolls (blocking: network). True when the phone is enrolled; else [error] holds the core's sentence. */
    fun join(deviceName: String?): Boolean {
        busy = true
        try {
            return when (val outcome = session.enroll(server.trim(), normalizedCode(), deviceName)) {
                is Outcome.Done -> true
                is Outcome.Failed -> {
                    error = outcome.failure.message
                    false
                }
            }
        } finally {
            busy = false
        }
    }
}

/** What an enrollment QR code holds. */
data class EnrollLink(val code: String, val server: String?) {
    companion object {
        fun parse(payload: String): EnrollLink {
            val text = payload.trim()
            val uri = try {
                URI(text)
            } catch (e: Exception) {
                null
            }
            val query = uri?.rawQuery
            if (uri?.scheme != null && query != null) {
                val params = query.split('&').mapNotNull {
                    val i = it.indexOf('=')
                    if (i <= 0) null else it.substring(0, i) to URLDecoder.decode(it.substring(i + 1), StandardCharsets.UTF_8)
                }.toMap()
                val code = params["code"]
                if (code != null) return EnrollLink(normalize(code), params["server"]?.takeIf { it.isNotBlank() })
            }
            return EnrollLink(normalize(text), null)
        }

        /** Upper case, spaces dropped; 12 letters and digits without dashes get them (XXXX-XXXX-XXXX). */
        fun normalize(code: String): String {
            val compact = code.trim().uppercase().replace(" ", "")
            return if (compact.length == 12 && compact.all { it.isLetterOrDigit() }) compact.chunked(4).joinToString("-") else compact
        }
    }
}
