package app.proofline.android.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Card
import androidx.compose.material3.DatePickerDialog
import androidx.compose.material3.DateRangePicker
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.rememberDateRangePickerState
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
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
import app.proofline.android.work.SyncScheduler
import app.proofline.core.Person
import app.proofline.core.Site
import app.proofline.shift.ComplianceRow
import app.proofline.shift.Copy
import app.proofline.shift.MissedRow
import app.proofline.shift.Outcome
import app.proofline.shift.ProofThumbnail
import app.proofline.shift.ReviewModel
import app.proofline.shift.ReviewScreen as ReviewState
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.UUID

data class ReviewUi(
    val sites: List<Site> = emptyList(),
    val site: UUID? = null,
    val screen: ReviewState? = null,
    val proof: Map<UUID, List<ProofThumbnail>> = emptyMap(),
    val error: String? = null,
    /** The core's sentence when an excuse or absence was refused (shown in its dialog). */
    val actionError: String? = null,
    /** Bumped when an action succeeded, so its dialog closes. */
    val actionsDone: Int = 0,
)

class ReviewViewModel(private val app: ProoflineApp) : CoreViewModel() {
    private val model = ReviewModel(app.session)
    private val state = MutableStateFlow(ReviewUi())
    val ui: StateFlow<ReviewUi> = state.asStateFlow()

    fun refresh() = work {
        val sites = model.sites()
        val site = state.value.site ?: sites.firstOrNull()?.id
        if (site == null) {
            state.value = state.value.copy(sites = sites)
            return@work
        }
        state.value = when (val outcome = model.load(site, days = 7)) {
            is Outcome.Done -> state.value.copy(sites = sites, site = site, screen = outcome.value, error = null)
            is Outcome.Failed -> state.value.copy(sites = sites, site = site, error = outcome.failure.message)
        }
    }

    fun selectSite(site: UUID) {
        state.value = state.value.copy(site = site, screen = null, proof = emptyMap())
        refresh()
    }

    fun loadProof(occurrence: UUID) = work {
        when (val outcome = model.proof(occurrence)) {
            is Outcome.Done -> state.value = state.value.copy(proof = state.value.proof + (occurrence to outcome.value))
            is Outcome.Failed -> state.value = state.value.copy(error = outcome.failure.message)
        }
    }

    fun excuse(occurrence: UUID, reason: String) = work {
        act(model.excuse(occurrence, reason))
    }

    fun recordAbsence(person: UUID, first: LocalDate, last: LocalDate, reason: String) = work {
        val site = state.value.site ?: return@work
        act(model.recordAbsence(site, person, first, last, reason))
    }

    fun clearActionError() {
        state.value = state.value.copy(actionError = null)
    }

    private fun act(outcome: Outcome<*>) {
        when (outcome) {
            is Outcome.Done -> {
                state.value = state.value.copy(actionError = null, actionsDone = state.value.actionsDone + 1)
                SyncScheduler.syncNow(app)
                refresh()
            }
            is Outcome.Failed -> state.value = state.value.copy(actionError = outcome.failure.message)
        }
    }
}

/**
 * Review, for supervisors and leads (works offline from the synced events): missed and late
 * checks by day, compliance per routine and per person, proof thumbnails, excuse with a
 * reason, record an absence.
 */
@Composable
fun ReviewScreen(app: ProoflineApp, onOpenCheck: (UUID) -> Unit) {
    val vm: ReviewViewModel = viewModel { ReviewViewModel(app) }
    val ui by vm.ui.collectAsStateWithLifecycle()
    LaunchedEffect(Unit) { vm.refresh() }
    var excusing by remember { mutableStateOf<MissedRow?>(null) }
    var absence by remember { mutableStateOf(false) }
    LaunchedEffect(ui.actionsDone) {
        excusing = null
        absence = false
    }
    val screen = ui.screen

    LazyColumn(
        modifier = Modifier.fillMaxSize(),
        contentPadding = PaddingValues(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        item {
            Text(Copy.REVIEW_TITLE, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
            if (ui.sites.size > 1) {
                Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    for (site in ui.sites) {
                        FilterChip(
                            selected = site.id == ui.site,
                            onClick = { vm.selectSite(site.id) },
                            label = { Text(site.name) },
                            modifier = Modifier.heightIn(min = TapTarget),
                        )
                    }
                }
            }
            screen?.let { Text("${it.site.name} · ${it.period}", style = MaterialTheme.typography.bodyMedium) }
        }
        item { CoreMessage(ui.error) }
        if (screen != null) {
            item {
                BigOutlinedButton(
                    text = Copy.RECORD_ABSENCE,
                    onClick = {
                        vm.clearActionError()
                        absence = true
                    },
                    modifier = Modifier.fillMaxWidth(),
                )
            }
            item { SectionTitle(Copy.MISSED_AND_LATE) }
            if (screen.days.isEmpty()) {
                item { Text("None", style = MaterialTheme.typography.bodyLarge) }
            }
            for (day in screen.days) {
                item(key = "day-${day.date}") {
                    Text(day.label, style = MaterialTheme.typography.titleMedium, modifier = Modifier.semantics { heading() })
                }
                items(day.rows, key = { it.occurrence.toString() }) { row ->
                    MissedCard(
                        row = row,
                        proof = ui.proof[row.occurrence],
                        onProof = { vm.loadProof(row.occurrence) },
                        onExcuse = {
                            vm.clearActionError()
                            excusing = row
                        },
                        onOpen = { onOpenCheck(row.occurrence) },
                    )
                }
            }
            item { SectionTitle("Compliance") }
            item { ComplianceLine(screen.totals) }
            item { SectionTitle(Copy.BY_ROUTINE) }
            items(screen.routines) { ComplianceLine(it) }
            item { SectionTitle(Copy.BY_PERSON) }
            items(screen.people) { ComplianceLine(it) }
        }
    }

    excusing?.let { row ->
        ExcuseDialog(
            row = row,
            error = ui.actionError,
            onDismiss = { excusing = null },
            onExcuse = { reason -> vm.excuse(row.occurrence, reason) },
        )
    }
    if (absence && screen != null) {
        AbsenceDialog(
            people = screen.members,
            error = ui.actionError,
            onDismiss = { absence = false },
            onRecord = { person, first, last, reason -> vm.recordAbsence(person, first, last, reason) },
        )
    }
}

@Composable
private fun MissedCard(
    row: MissedRow,
    proof: List<ProofThumbnail>?,
    onProof: () -> Unit,
    onExcuse: () -> Unit,
    onOpen: () -> Unit,
) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Row(
                modifier = Modifier
                    .fillMaxWidth()
                    .heightIn(min = TapTarget)
                    .clickable(onClick = onOpen)
                    .semantics(mergeDescendants = true) {
                        contentDescription = listOfNotNull(row.localDue, row.title, row.outcome, row.assignee, row.note).joinToString(". ")
                    },
                verticalAlignment = Alignment.CenterVertically,
                horizontalArrangement = Arrangement.spacedBy(12.dp),
            ) {
                Text(row.localDue, style = MaterialTheme.typography.titleMedium)
                Column(Modifier.weight(1f)) {
                    Text(row.title, style = MaterialTheme.typography.bodyLarge)
                    Text(
                        row.outcome,
                        style = MaterialTheme.typography.bodyMedium,
                        color = if (row.missed) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.secondary,
                    )
                    Text(row.assignee, style = MaterialTheme.typography.bodyMedium)
                    row.note?.let { Text(it, style = MaterialTheme.typography.bodyMedium) }
                }
            }
            if (proof != null) {
                if (proof.isEmpty()) {
                    Text("No photo proof", style = MaterialTheme.typography.bodyMedium)
                } else {
                    Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        proof.forEachIndexed { i, photo -> JpegThumbnail(photo.jpeg, "${row.title}, proof photo ${i + 1}") }
                    }
                }
            }
            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                if (!row.missed && proof == null) BigOutlinedButton(text = "Proof", onClick = onProof)
                if (row.missed) BigOutlinedButton(text = Copy.EXCUSE, onClick = onExcuse)
            }
        }
    }
}

@Composable
private fun ComplianceLine(row: ComplianceRow) {
    Column(
        Modifier
            .fillMaxWidth()
            .semantics(mergeDescendants = true) { contentDescription = "${row.name}: ${row.onTime} on time. ${row.detail}" },
    ) {
        Row(verticalAlignment = Alignment.CenterVertically) {
            Text(row.name, style = MaterialTheme.typography.bodyLarge, modifier = Modifier.weight(1f))
            Text(row.onTime, style = MaterialTheme.typography.titleMedium)
        }
        Text(row.detail, style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
        HorizontalDivider(Modifier.padding(top = 8.dp))
    }
}

@Composable
private fun ExcuseDialog(row: MissedRow, error: String?, onDismiss: () -> Unit, onExcuse: (String) -> Unit) {
    var reason by remember { mutableStateOf("") }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text("${Copy.EXCUSE}: ${row.title} ${row.localDue}") },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(12.dp)) {
                OutlinedTextField(
                    value = reason,
                    onValueChange = { reason = it },
                    label = { Text(Copy.REASON) },
                    minLines = 2,
                    modifier = Modifier.fillMaxWidth(),
                )
                CoreMessage(error)
            }
        },
        confirmButton = {
            TextButton(onClick = { onExcuse(reason) }, modifier = Modifier.heightIn(min = TapTarget)) { Text(Copy.EXCUSE) }
        },
        dismissButton = {
            TextButton(onClick = onDismiss, modifier = Modifier.heightIn(min = TapTarget)) { Text("Cancel") }
        },
    )
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
private fun AbsenceDialog(
    people: List<Person>,
    error: String?,
    onDismiss: () -> Unit,
    onRecord: (UUID, LocalDate, LocalDate, String) -> Unit,
) {
    var person by remember { mutableStateOf<Person?>(null) }
    var choosing by remember { mutableStateOf(false) }
    var reason by remember { mutableStateOf("") }
    val range = rememberDateRangePickerState()
    // The picker's dates are UTC midnights of calendar days; the site's zone applies later.
    fun day(millis: Long?): LocalDate? = millis?.let { Instant.ofEpochMilli(it).atZone(ZoneOffset.UTC).toLocalDate() }
    val first = day(range.selectedStartDateMillis)
    val last = day(range.selectedEndDateMillis) ?: first
    DatePickerDialog(
        onDismissRequest = onDismiss,
        confirmButton = {
            TextButton(
                onClick = {
                    val p = person
                    if (p != null && first != null && last != null) onRecord(p.id, first, last, reason)
                },
                enabled = person != null && first != null,
                modifier = Modifier.heightIn(min = TapTarget),
            ) { Text(Copy.RECORD_ABSENCE) }
        },
        dismissButton = {
            TextButton(onClick = onDismiss, modifier = Modifier.heightIn(min = TapTarget)) { Text("Cancel") }
        },
    ) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
            Text(Copy.RECORD_ABSENCE, style = MaterialTheme.typography.titleLarge)
            BigOutlinedButton(text = person?.name ?: "Who is away?", onClick = { choosing = true }, modifier = Modifier.fillMaxWidth())
            DropdownMenu(expanded = choosing, onDismissRequest = { choosing = false }) {
                for (p in people) {
                    DropdownMenuItem(
                        text = { Text(p.name) },
                        onClick = {
                            person = p
                            choosing = false
                        },
                        modifier = Modifier.heightIn(min = TapTarget),
                    )
                }
            }
            OutlinedTextField(
                value = reason,
                onValueChange = { reason = it },
                label = { Text(Copy.REASON) },
                modifier = Modifier.fillMaxWidth(),
            )
            CoreMessage(error)
            DateRangePicker(state = range, modifier = Modifier.heightIn(max = 420.dp))
        }
    }
}
