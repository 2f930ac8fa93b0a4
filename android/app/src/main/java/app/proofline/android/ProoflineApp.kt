package app.proofline.android

import android.app.Application
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import androidx.work.Configuration
import app.proofline.android.work.SyncScheduler
import app.proofline.shift.Clock
import app.proofline.shift.ShiftSession
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import java.io.File

/**
 * The process: one [ShiftSession] over the device folder, the online state, notification
 * channels, and the background sync (periodic, and when the network comes back).
 */
class ProoflineApp : Application(), Configuration.Provider {
    /** The one session the screens, workers and the push service share. */
    val session: ShiftSession by lazy { ShiftSession(File(filesDir, "proofline").path, Clock.SYSTEM) }

    private val onlineState = MutableStateFlow(true)

    /** Whether the phone has a validated network: the offline banner follows it. */
    val online: StateFlow<Boolean> = onlineState.asStateFlow()

    override val workManagerConfiguration: Configuration
        get() = Configuration.Builder().setMinimumLoggingLevel(android.util.Log.INFO).build()

    override fun onCreate() {
        super.onCreate()
        Notifier.createChannels(this)
        SyncScheduler.schedulePeriodic(this)
        watchConnectivity()
    }

    private fun watchConnectivity() {
        val connectivity = getSystemService(ConnectivityManager::class.java)
        onlineState.value = connectivity.activeNetwork
            ?.let { connectivity.getNetworkCapabilities(it) }
            ?.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED) == true
        val request = NetworkRequest.Builder()
            .addCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
            .build()
        connectivity.registerNetworkCallback(request, object : ConnectivityManager.NetworkCallback() {
            override fun onCapabilitiesChanged(network: Network, capabilities: NetworkCapabilities) {
                val validated = capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED)
                val wasOnline = onlineState.value
                onlineState.value = validated
                // Back online: send what waited (events and photos are in the core's outbox).
                if (validated && !wasOnline) SyncScheduler.syncNow(this@ProoflineApp)
            }

            override fun onLost(network: Network) {
                onlineState.value = connectivity.activeNetwork
                    ?.let { connectivity.getNetworkCapabilities(it) }
                    ?.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED) == true
            }
        })
    }
}
