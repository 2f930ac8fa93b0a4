package app.proofline.shift

import java.time.Instant

/**
 * Where the shell's `now` comes from. The core reads no clock: every time-dependent call gets
 * `now` from here — the system clock in the app, a fixed instant in tests.
 */
fun interface Clock {
    fun now(): Instant

    companion object {
        /** The phone's clock. */
        val SYSTEM = Clock { Instant.now() }

        /** Always [instant]. */
        fun fixed(instant: Instant) = Clock { instant }
    }
}
