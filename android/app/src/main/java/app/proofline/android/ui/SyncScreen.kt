package app.proofline.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Schedule
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import app.proofline.android.ProoflineApp
import app.proofline.android.ui.theme.TapTarget
import app.proofline.android.work.ReminderScheduler
import app.proofline.shift.Copy
import app.proofline.shift.Outcome
import app.proofline.shift.SyncModel
import app.proofline.shift.SyncScreen as SyncState
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

data class SyncUi(
    val screen: SyncState? = null,
    val syncing: Boolean = false,
    /** The core's sentences from the last sync this screen ran (network trouble, refusals). */
    val errors: List<String> = emptyList(),
)

class SyncViewModel(private val app: ProoflineApp) : CoreViewModel() {
    private val model = SyncModel(app.session)
    private val state = MutableStateFlow(SyncUi())
    val ui: StateFlow<SyncUi> = state.asStateFlow()

    fun refresh() = work {
        state.value = when (val outcome = model.load()) {
            is Outcome.Done -> state.value.copy(screen = outcome.value)
            is Outcome.Failed -> state.value.copy(errors = listOf(outcome.failure.message))
        }
    }

    fun syncNow() {
        state.value = state.value.copy(syncing = true)
        work {
            val errors = when (val outcome = model.syncNow()) {
                is Outcome.Done -> outcome.value.errors + outcome.value.rejected.map { "${it.subject}: ${it.reason}" }
                is Outcome.Failed -> listOf(outcome.failure.message)
            }
            ReminderScheduler.plan(app)
            state.value = state.value.copy(syncing = false, errors = errors)
            refresh()
        }
    }
}

/** Sync: what waits to be sent, the last sync, the clock-skew warning, "Sync now". */
@Composable
fun SyncScreen(app: ProoflineApp) {
    val vm: SyncViewModel = viewModel { SyncViewModel(app) }
    val ui by vm.ui.collectAsStateWithLifecycle()
    LaunchedEffect(Unit) {
        while (true) {
            vm.refresh()
            delay(15_000)
        }
    }
    val screen = ui.screen
    Column(
        modifier = Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text(Copy.SYNC_TITLE, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        screen?.server?.let { Text(it, style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant) }
        screen?.clockWarning?.let { warning ->
            Row(
                verticalAlignment = Alignment.CenterVertically,
                horizontalArrangement = Arrangement.spacedBy(12.dp),
                modifier = Modifier.fillMaxWidth().semantics(mergeDescendants = true) { },
            ) {
                Icon(Icons.Filled.Schedule, contentDescription = null, tint = MaterialTheme.colorScheme.secondary)
                Text(warning, style = MaterialTheme.typography.bodyLarge, color = MaterialTheme.colorScheme.secondary)
            }
        }
        screen?.rows?.forEach { row ->
            Row(
                modifier = Modifier
                    .fillMaxWidth()
                    .heightIn(min = TapTarget)
                    .semantics(mergeDescendants = true) { contentDescription = "${row.label}: ${row.value}" },
                verticalAlignment = Alignment.CenterVertically,
            ) {
                Text(row.label, style = MaterialTheme.typography.bodyLarge, modifier = Modifier.weight(1f))
                Text(row.value, style = MaterialTheme.typography.titleMedium)
            }
            HorizontalDivider()
        }
        CoreMessage(screen?.lastError)
        for (error in ui.errors) CoreMessage(error)
        if (screen != null && screen.rejected.isNotEmpty()) {
            SectionTitle("Refused by the server")
            for (reason in screen.rejected) Text(reason, style = MaterialTheme.typography.bodyMedium)
        }
        if (ui.syncing) LinearProgressIndicator(Modifier.fillMaxWidth())
        BigButton(text = Copy.SYNC_NOW, onClick = vm::syncNow, enabled = !ui.syncing)
    }
}
