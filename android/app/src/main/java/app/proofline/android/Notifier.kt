package app.proofline.android

import android.Manifest
import android.annotation.SuppressLint
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.content.ContextCompat
import app.proofline.shift.Channel
import app.proofline.shift.NotificationSpec

/**
 * Shows the notifications the core plans (reminders, alerts) and the server pushes
 * (escalations). Texts are the core's; the tag (the reminder id or the check's collapse key)
 * makes a later notification for the same check replace the earlier one. Tapping opens the
 * check.
 */
object Notifier {
    const val EXTRA_OCCURRENCE = "app.proofline.android.OCCURRENCE"

    fun createChannels(context: Context) {
        val manager = context.getSystemService(NotificationManager::class.java)
        manager.createNotificationChannel(
            NotificationChannel(Channel.REMINDERS.id, Channel.REMINDERS.title, NotificationManager.IMPORTANCE_DEFAULT),
        )
        manager.createNotificationChannel(
            NotificationChannel(Channel.ESCALATIONS.id, Channel.ESCALATIONS.title, NotificationManager.IMPORTANCE_HIGH),
        )
    }

    fun canNotify(context: Context): Boolean =
        Build.VERSION.SDK_INT < Build.VERSION_CODES.TIRAMISU ||
            ContextCompat.checkSelfPermission(context, Manifest.permission.POST_NOTIFICATIONS) == PackageManager.PERMISSION_GRANTED

    @SuppressLint("MissingPermission") // checked by canNotify; a late withdrawal is caught below
    fun show(context: Context, spec: NotificationSpec) {
        if (!canNotify(context)) return
        val open = Intent(context, MainActivity::class.java).apply {
            flags = Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_SINGLE_TOP
            spec.occurrence?.let { putExtra(EXTRA_OCCURRENCE, it.toString()) }
        }
        val tap = PendingIntent.getActivity(
            context, spec.id, open, PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
        )
        val notification = NotificationCompat.Builder(context, spec.channel.id)
            .setSmallIcon(R.drawable.ic_notification)
            .setContentTitle(spec.title)
            .setContentText(spec.body)
            .setStyle(NotificationCompat.BigTextStyle().bigText(spec.body))
            .setWhen(spec.fireAt.toEpochMilli())
            .setShowWhen(true)
            .setAutoCancel(true)
            // Replacing the notification of the same check (a later level, a resync) is silent.
            .setOnlyAlertOnce(true)
            .setContentIntent(tap)
            .setPriority(
                if (spec.channel == Channel.ESCALATIONS) NotificationCompat.PRIORITY_HIGH else NotificationCompat.PRIORITY_DEFAULT,
            )
            .setCategory(if (spec.channel == Channel.ESCALATIONS) NotificationCompat.CATEGORY_ALARM else NotificationCompat.CATEGORY_REMINDER)
            .build()
        try {
            NotificationManagerCompat.from(context).notify(spec.tag, spec.id, notification)
        } catch (e: SecurityException) {
            // The permission was withdrawn between the check and the call: nothing to show.
        }
    }
}
