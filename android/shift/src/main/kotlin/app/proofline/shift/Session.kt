package app.proofline.shift

import app.proofline.core.Device
import app.proofline.core.Org
import app.proofline.core.Person
import app.proofline.core.ProoflineException
import app.proofline.core.Role
import app.proofline.core.Site
import java.util.UUID

/**
 * The app's one [Device], over its folder ([dir], e.g. `filesDir/proofline`). Opens the device
 * set up there on launch, or enrolls one; every screen model reads the core through it.
 * Calls block (see docs/bindings.md): the app calls from a background thread. Opening,
 * enrolling and closing are synchronized (the screens and the background workers share
 * one session); the core serialises the device's own calls.
 */
class ShiftSession(val dir: String, val clock: Clock = Clock.SYSTEM) : AutoCloseable {
    @Volatile
    private var current: Device? = null

    /** The device, once opened or enrolled. */
    val device: Device
        get() = current ?: throw IllegalStateException("no device: open or enroll first")

    val isReady: Boolean get() = current != null

    /**
     * Opens the device set up in [dir]. False when none is set up there yet (the core's
     * `NotFound`): show the Enroll screen. Other failures are returned.
     */
    @Synchronized
    fun open(): Outcome<Boolean> {
        if (current != null) return Outcome.Done(true)
        return try {
            current = Device.open(dir)
            Outcome.Done(true)
        } catch (e: ProoflineException.NotFound) {
            Outcome.Done(false)
        } catch (e: ProoflineException) {
            Outcome.Failed(CoreFailure.of(e))
        }
    }

    /** Enrolls this phone with a one-time [code] at [server] (real clock: the server measures skew). */
    @Synchronized
    fun enroll(server: String, code: String, deviceName: String?): Outcome<Device> = core {
        val device = Device.enroll(dir, server, code, "android", deviceName, clock.now())
        current?.close()
        current = device
        device
    }

    /** The org as this device knows it. */
    fun org(): Org = device.org()

    /** The person using this phone. */
    fun me(): Person {
        val id = device.identity().person
        return org().people.first { it.id == id }
    }

    /** A site by id, if this device holds it. */
    fun site(id: UUID): Site? = org().sites.firstOrNull { it.id == id }

    /** The IANA zone of a site (for writing its instants as local times). */
    fun zoneOf(site: UUID): String = site(site)?.timeZone ?: java.time.ZoneId.systemDefault().id

    /**
     * The sites where this person reviews (supervisor, lead or admin there): where the Review
     * tab shows. The core still checks every action (`NotAllowed`).
     */
    fun reviewSites(): List<Site> {
        val me = me()
        val sites = org().sites
        return me.roles.filter { it.role != Role.STAFF }
            .mapNotNull { role -> sites.firstOrNull { it.id == role.site } }
    }

    @Synchronized
    override fun close() {
        current?.close()
        current = null
    }
}
