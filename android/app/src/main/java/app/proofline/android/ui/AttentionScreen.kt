package app.proofline.android.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.CheckCircle
import androidx.compose.material3.AssistChip
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.Icon
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import app.proofline.android.ProoflineApp
import app.proofline.core.AttentionKind
import app.proofline.shift.AgendaRow
import app.proofline.shift.AttentionModel
import app.proofline.shift.AttentionRow
import app.proofline.shift.AttentionScreen as AttentionState
import app.proofline.shift.Copy
import app.proofline.shift.Outcome
import app.proofline.android.ui.theme.TapTarget
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import java.util.UUID

data class AttentionUi(val screen: AttentionState? = null, val error: String? = null)

class AttentionViewModel(private val app: ProoflineApp) : CoreViewModel() {
    private val model = AttentionModel(app.session)
    private val state = MutableStateFlow(AttentionUi())
    val ui: StateFlow<AttentionUi> = state.asStateFlow()

    fun refresh() = work {
        state.value = when (val outcome = model.load()) {
            is Outcome.Done -> AttentionUi(outcome.value, null)
            is Outcome.Failed -> state.value.copy(error = outcome.failure.message)
        }
    }

    fun acknowledge(row: AttentionRow) = work {
        val outcome = model.acknowledge(row)
        if (outcome is Outcome.Failed) state.value = state.value.copy(error = outcome.failure.message)
        refresh()
    }
}

/**
 * Attention (tab "Today"): only what needs action, most urgent first, in the core's order;
 * "All checks on track" when the feed is empty; my other checks of the day below.
 */
@Composable
fun AttentionScreen(app: ProoflineApp, onOpenCheck: (UUID) -> Unit) {
    val vm: AttentionViewModel = viewModel { AttentionViewModel(app) }
    val ui by vm.ui.collectAsStateWithLifecycle()
    LaunchedEffect(Unit) {
        // Statuses move with the clock: recompute every 30 s while the screen is shown.
        while (true) {
            vm.refresh()
            delay(30_000)
        }
    }
    val screen = ui.screen
    LazyColumn(
        modifier = Modifier.fillMaxSize(),
        contentPadding = androidx.compose.foundation.layout.PaddingValues(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        item {
            Text(Copy.ATTENTION_TITLE, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
            if (screen != null) {
                Text(
                    "${screen.personName} · ${screen.siteNames.joinToString()}",
                    style = MaterialTheme.typography.bodyMedium,
                    color = MaterialTheme.colorScheme.onSurfaceVariant,
                )
            }
        }
        item { CoreMessage(ui.error) }
        if (screen != null) {
            val empty = screen.emptyText
            if (empty != null) {
                item { EmptyFeed(empty) }
            }
            items(screen.rows, key = { "${it.item.kind}-${it.occurrence}-${it.item.alert}-${it.item.escalation?.id}" }) { row ->
                AttentionCard(row, onOpen = { row.occurrence?.let(onOpenCheck) }, onAcknowledge = { vm.acknowledge(row) })
            }
            if (screen.later.isNotEmpty()) {
                item { SectionTitle(Copy.LATER_TODAY) }
                items(screen.later, key = { it.occurrence.toString() }) { row ->
                    AgendaCard(row, onOpen = { onOpenCheck(row.occurrence) })
                }
            }
        }
    }
}

@Composable
private fun EmptyFeed(text: String) {
    Column(
        modifier = Modifier.fillMaxWidth().padding(vertical = 48.dp).semantics(mergeDescendants = true) { },
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Icon(Icons.Filled.CheckCircle, contentDescription = null, tint = MaterialTheme.colorScheme.primary, modifier = Modifier.size(72.dp))
        Text(text, style = MaterialTheme.typography.headlineSmall)
    }
}

@Composable
private fun kindColor(kind: AttentionKind): Color = when (kind) {
    AttentionKind.OVERDUE -> MaterialTheme.colorScheme.error
    AttentionKind.DUE_NOW -> MaterialTheme.colorScheme.secondary
    AttentionKind.ESCALATION -> MaterialTheme.colorScheme.error
    AttentionKind.REPEAT_FAILURE -> MaterialTheme.colorScheme.tertiary
}

@Composable
private fun AttentionCard(row: AttentionRow, onOpen: () -> Unit, onAcknowledge: () -> Unit) {
    Card(
        modifier = Modifier
            .fillMaxWidth()
            .heightIn(min = TapTarget)
            .clickable(enabled = row.occurrence != null, onClick = onOpen)
            .semantics(mergeDescendants = true) { contentDescription = row.spoken },
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.surfaceVariant),
    ) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Row(verticalAlignment = Alignment.CenterVertically) {
                Text(row.badge, color = kindColor(row.item.kind), style = MaterialTheme.typography.labelLarge)
                Spacer(Modifier.width(12.dp))
                row.localDue?.let { Text(it, style = MaterialTheme.typography.titleMedium) }
                Spacer(Modifier.weight(1f))
                row.dueText?.let { Text(it, style = MaterialTheme.typography.bodyMedium, color = kindColor(row.item.kind)) }
            }
            Text(row.message, style = MaterialTheme.typography.bodyLarge)
            if (row.unconfirmed) {
                Text("Not yet confirmed by the server", style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
            }
            if (row.canAcknowledge) {
                BigOutlinedButton(text = Copy.ACKNOWLEDGE, onClick = onAcknowledge, modifier = Modifier.fillMaxWidth())
            }
        }
    }
}

@Composable
private fun AgendaCard(row: AgendaRow, onOpen: () -> Unit) {
    Row(
        modifier = Modifier
            .fillMaxWidth()
            .heightIn(min = TapTarget)
            .clickable(onClick = onOpen)
            .padding(horizontal = 8.dp, vertical = 8.dp)
            .semantics(mergeDescendants = true) {
                contentDescription = listOfNotNull(row.title, row.localDue, row.statusText, row.note).joinToString(". ")
            },
        verticalAlignment = Alignment.CenterVertically,
        horizontalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        Text(row.localDue, style = MaterialTheme.typography.titleMedium)
        Column(Modifier.weight(1f)) {
            Text(row.title, style = MaterialTheme.typography.bodyLarge)
            row.note?.let { Text(it, style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant) }
        }
        if (row.done) {
            AssistChip(onClick = onOpen, label = { Text(row.statusText) })
        } else {
            Text(row.statusText, style = MaterialTheme.typography.bodyMedium)
        }
    }
}
