package app.proofline.android.work

import android.content.Context
import androidx.work.CoroutineWorker
import androidx.work.ExistingWorkPolicy
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import app.proofline.android.Notifier
import app.proofline.android.ProoflineApp
import app.proofline.shift.Channel
import app.proofline.shift.NotificationPlan
import app.proofline.shift.NotificationSpec
import app.proofline.shift.Outcome
import java.time.Duration
import java.time.Instant
import java.util.UUID
import java.util.concurrent.TimeUnit

/**
 * Local notifications for the owner's upcoming and overdue checks, from the core's
 * `upcomingReminders` (computed offline). Each reminder is one unique delayed work named by
 * its stable id, so planning again replaces rather than duplicates.
 */
object ReminderScheduler {
    private const val TAG = "proofline-reminder"
    private val HORIZON: Duration = Duration.ofHours(12)

    fun plan(app: ProoflineApp) {
        val session = app.session
        if (!session.isReady) return
        val now = session.clock.now()
        val reminders = try {
            session.device.upcomingReminders(now, HORIZON)
        } catch (e: app.proofline.core.ProoflineException) {
            return
        }
        val work = WorkManager.getInstance(app)
        work.cancelAllWorkByTag(TAG)
        for (spec in NotificationPlan.reminders(reminders)) {
            val delay = Duration.between(now, spec.fireAt).toMillis().coerceAtLeast(0)
            val request = OneTimeWorkRequestBuilder<ReminderWorker>()
                .setInitialDelay(delay, TimeUnit.MILLISECONDS)
                .addTag(TAG)
                .setInputData(
                    workDataOf(
                        "id" to spec.id, "tag" to spec.tag, "fireAt" to spec.fireAt.toEpochMilli(),
                        "title" to spec.title, "body" to spec.body,
                        "occurrence" to spec.occurrence?.toString(), "channel" to spec.channel.name,
                    ),
                )
                .build()
            work.enqueueUniqueWork("reminder-${spec.tag}", ExistingWorkPolicy.REPLACE, request)
        }
    }

    /** After a completion or a sync, plan again (done checks drop out of the core's reminders). */
    fun replan(app: ProoflineApp) {
        if (app.session.open().let { it is Outcome.Done && it.value }) plan(app)
    }
}

class ReminderWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val data = inputData
        val spec = NotificationSpec(
            id = data.getInt("id", 0),
            tag = data.getString("tag") ?: return Result.success(),
            fireAt = Instant.ofEpochMilli(data.getLong("fireAt", 0)),
            title = data.getString("title") ?: "",
            body = data.getString("body") ?: "",
            occurrence = data.getString("occurrence")?.let(UUID::fromString),
            channel = data.getString("channel")?.let { Channel.valueOf(it) } ?: Channel.REMINDERS,
        )
        Notifier.show(applicationContext, spec)
        return Result.success()
    }
}
