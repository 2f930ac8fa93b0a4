package app.proofline.shift

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * The real `proofline-server serve --demo` on a loopback port chosen by the OS, with a
 * temporary data dir. The demo seeds Harbor Kitchen (examples/restaurant.toml) and prints a
 * one-time enrollment code per person, read here into [codes]. [stop] ends it (SIGTERM,
 * then SIGKILL after 10 s). No dispatcher on the real clock: the tests play their own day.
 */
class TestServer(bin: String, dataDir: File, private val log: File) : AutoCloseable {
    private val process: Process
    val url: String
    val codes = mutableMapOf<String, String>()

    init {
        process = ProcessBuilder(bin, "serve", "--data-dir", dataDir.path, "--listen", "127.0.0.1:0", "--demo")
            .also {
                it.environment()["PROOFLINE_ADMIN_TOKEN"] = ADMIN_TOKEN
                it.environment()["RUST_LOG"] = "warn"
                it.environment()["PROOFLINE_DISPATCH_TICK"] = "0"
                it.redirectError(log)
            }.start()
        val lines = LinkedBlockingQueue<String>()
        Thread {
            process.inputStream.bufferedReader().forEachLine { lines.put(it) }
            lines.put(EOF)
        }.apply { isDaemon = true }.start()
        var listening: String? = null
        val codeLine = Regex("""^(.+?)\s{2,}\S+\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$""")
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        try {
            while (true) {
                val left = deadline - System.nanoTime()
                val line = lines.poll(maxOf(left, 0), TimeUnit.NANOSECONDS)
                    ?: error("the server printed no admin token line within 60 s; log: ${log.readText()}")
                if (line == EOF) error("the server exited while starting; log: ${log.readText()}")
                val trimmed = line.trim()
                val m = codeLine.find(trimmed)
                when {
                    trimmed.startsWith("listening on ") -> listening = trimmed.removePrefix("listening on ")
                    trimmed.startsWith("admin token:") -> break
                    m != null -> codes[m.groupValues[1]] = m.groupValues[2]
                }
            }
            url = listening ?: error("the server printed no listening line")
            check(url.startsWith("http://127.0.0.1:")) { "the server must listen on the loopback only: $url" }
        } catch (e: Throwable) {
            stop()
            throw e
        }
    }

    /** `GET` an admin route; the body. */
    fun admin(path: String): String {
        val request = HttpRequest.newBuilder(URI.create(url + path))
            .header("Authorization", "Bearer $ADMIN_TOKEN")
            .timeout(Duration.ofSeconds(30))
            .GET().build()
        val response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() == 200) { "GET $path: ${response.statusCode()} ${response.body()}" }
        return response.body()
    }

    fun stop() {
        if (!process.isAlive) return
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor(10, TimeUnit.SECONDS)
        }
    }

    override fun close() = stop()

    companion object {
        const val ADMIN_TOKEN = "android-shift-admin-token-5d1f"
        private const val EOF = "<eof>"
    }
}
