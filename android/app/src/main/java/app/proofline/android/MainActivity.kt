package app.proofline.android

import android.Manifest
import android.content.Intent
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.runtime.mutableStateOf
import app.proofline.android.ui.ProoflineRoot
import app.proofline.android.ui.theme.ProoflineTheme
import java.util.UUID

/** The one activity: Compose screens; a tapped notification's check, or an enrollment link. */
class MainActivity : ComponentActivity() {
    /** A check to open (from a tapped reminder or escalation), consumed by the navigation. */
    private val openCheck = mutableStateOf<UUID?>(null)

    /** An enrollment link (proofline://enroll?...) to prefill the Enroll screen. */
    private val enrollLink = mutableStateOf<String?>(null)

    private val askNotifications = registerForActivityResult(ActivityResultContracts.RequestPermission()) { }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        handle(intent)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU && !Notifier.canNotify(this)) {
            askNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
        }
        val app = application as ProoflineApp
        setContent {
            ProoflineTheme {
                ProoflineRoot(
                    app = app,
                    openCheck = openCheck.value,
                    onCheckOpened = { openCheck.value = null },
                    enrollLink = enrollLink.value,
                )
            }
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handle(intent)
    }

    private fun handle(intent: Intent?) {
        intent ?: return
        intent.getStringExtra(Notifier.EXTRA_OCCURRENCE)?.let { text ->
            openCheck.value = try {
                UUID.fromString(text)
            } catch (e: IllegalArgumentException) {
                null
            }
        }
        if (intent.action == Intent.ACTION_VIEW) enrollLink.value = intent.dataString
    }
}
