package app.proofline.android.work

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import app.proofline.android.Notifier
import app.proofline.android.ProoflineApp
import app.proofline.shift.NotificationPlan
import app.proofline.shift.Outcome
import app.proofline.shift.SyncModel
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * Background sync: uploads the photos and events waiting in the core's outbox (they survive
 * restarts: the outbox is on disk), pulls the sites' events, then plans the local
 * notifications again from the core's reminders and alerts.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result = withContext(Dispatchers.IO) {
        val app = applicationContext as ProoflineApp
        val session = app.session
        val opened = session.open()
        if (opened !is Outcome.Done || !opened.value) return@withContext Result.success() // not enrolled yet
        val synced = SyncModel(session).syncNow()
        ReminderScheduler.plan(app)
        val alerts = try {
            session.device.alerts(session.clock.now())
        } catch (e: app.proofline.core.ProoflineException) {
            emptyList()
        }
        NotificationPlan.alerts(alerts).forEach { Notifier.show(app, it) }
        when (synced) {
            is Outcome.Done -> if (synced.value.complete) Result.success() else Result.retry()
            is Outcome.Failed -> Result.retry()
        }
    }
}

object SyncScheduler {
    private const val PERIODIC = "proofline-sync-periodic"
    private const val NOW = "proofline-sync-now"

    private val connected = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

    /** Every 15 minutes (WorkManager's minimum) while there is a network. */
    fun schedulePeriodic(context: Context) {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES)
            .setConstraints(connected)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, Duration.ofSeconds(30))
            .build()
        WorkManager.getInstance(context).enqueueUniquePeriodicWork(PERIODIC, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /** As soon as there is a network (after a completion, or when connectivity returns). */
    fun syncNow(context: Context) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(connected)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, Duration.ofSeconds(30))
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(NOW, ExistingWorkPolicy.REPLACE, request)
    }
}
