package app.proofline.android.push

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import app.proofline.android.Notifier
import app.proofline.android.ProoflineApp
import app.proofline.core.ProoflineException
import app.proofline.shift.EscalationPush
import app.proofline.shift.Outcome
import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.time.Duration
import java.time.Instant

/**
 * Firebase Cloud Messaging: registers this phone's token with the Proofline server (so the
 * dispatcher's escalations reach it) and shows escalation alerts — one per check: the
 * server's collapse key (the occurrence id; per person for a digest of reminders) is the
 * notification tag, so a later level replaces the earlier one. Tapping opens the check.
 */
class ProoflineMessagingService : FirebaseMessagingService() {
    override fun onNewToken(token: String) {
        PushTokenWorker.register(applicationContext, token)
    }

    override fun onMessageReceived(message: RemoteMessage) {
        val notification = message.notification
        val push = EscalationPush.parse(message.data, notification?.title, notification?.body) ?: return
        Notifier.show(applicationContext, push.notification(Instant.now()))
    }
}

/** Registers the FCM token with the server through the core; retried until the server has it. */
class PushTokenWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result = withContext(Dispatchers.IO) {
        val token = inputData.getString(TOKEN) ?: return@withContext Result.success()
        val session = (applicationContext as ProoflineApp).session
        val opened = session.open()
        if (opened !is Outcome.Done || !opened.value) return@withContext Result.success() // registered after enrolling
        try {
            session.device.registerPushToken("fcm", token)
            Result.success()
        } catch (e: ProoflineException.Offline) {
            Result.retry()
        } catch (e: ProoflineException.Storage) {
            Result.retry()
        } catch (e: ProoflineException) {
            Result.failure()
        }
    }

    companion object {
        private const val TOKEN = "token"

        fun register(context: Context, token: String) {
            val request = OneTimeWorkRequestBuilder<PushTokenWorker>()
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, Duration.ofSeconds(30))
                .setInputData(workDataOf(TOKEN to token))
                .build()
            WorkManager.getInstance(context).enqueueUniqueWork("proofline-push-token", ExistingWorkPolicy.REPLACE, request)
        }

        /** After enrolling: register the current token (Firebase may have issued it before). */
        fun registerCurrent(context: Context) {
            try {
                com.google.firebase.messaging.FirebaseMessaging.getInstance().token
                    .addOnSuccessListener { token -> register(context, token) }
            } catch (e: IllegalStateException) {
                // Firebase is not configured in this build (no google-services.json): no pushes.
            }
        }
    }
}
