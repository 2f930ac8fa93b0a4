package app.proofline.android.ui

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.net.Uri
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.BorderStroke
import androidx.compose.foundation.Canvas
import androidx.compose.foundation.background
import androidx.compose.foundation.border
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.toggleable
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material3.Checkbox
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedCard
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.graphics.Path
import androidx.compose.ui.graphics.StrokeCap
import androidx.compose.ui.graphics.StrokeJoin
import androidx.compose.ui.graphics.drawscope.Stroke
import androidx.compose.ui.input.pointer.pointerInput
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.semantics.stateDescription
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.core.content.FileProvider
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import androidx.compose.foundation.gestures.detectDragGestures
import app.proofline.android.ProoflineApp
import app.proofline.android.ui.theme.TapTarget
import app.proofline.android.work.ReminderScheduler
import app.proofline.android.work.SyncScheduler
import app.proofline.core.OccurrenceDetail
import app.proofline.core.PhotoRecord
import app.proofline.core.StepType
import app.proofline.shift.CheckModel
import app.proofline.shift.Copy
import app.proofline.shift.Formats
import app.proofline.shift.Outcome
import app.proofline.shift.SignaturePad
import app.proofline.shift.StepInput
import app.proofline.shift.StepView
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import java.io.File
import java.util.UUID

/** What the Check screen shows. */
data class CheckUi(
    val detail: OccurrenceDetail? = null,
    val steps: List<StepView> = emptyList(),
    /** "Complete check" enabled: the core's dry run found nothing to refuse in the input as it is now. */
    val canSubmit: Boolean = false,
    val busy: Boolean = false,
    /** The core's sentence from a refused completion or a failed load, verbatim. */
    val message: String? = null,
    /** The core's problems that name no step of this check, verbatim (shown above the button). */
    val otherProblems: List<String> = emptyList(),
    /** The core could not check the proof (not a proof problem), verbatim. */
    val checkError: String? = null,
    val completed: Boolean = false,
    val note: String = "",
    /** Thumbnails of the photos taken here, by SHA-256. */
    val thumbnails: Map<String, ByteArray?> = emptyMap(),
)

class CheckViewModel(private val app: ProoflineApp, occurrence: UUID) : CoreViewModel() {
    private val model = CheckModel(app.session, occurrence)
    private val thumbs = mutableMapOf<String, ByteArray?>()
    private val state = MutableStateFlow(CheckUi())
    val ui: StateFlow<CheckUi> = state.asStateFlow()
    private var loadError: String? = null

    init {
        work {
            val outcome = model.load()
            loadError = (outcome as? Outcome.Failed)?.failure?.message
            publish()
        }
    }

    /**
     * Publishes the model's state (on the core thread, where the model lives). Every edit
     * has already asked the core (`checkProof`) about the new input, so the steps' messages
     * and "Complete check" follow the core's verdict for what is entered now.
     */
    private fun publish() {
        state.value = CheckUi(
            detail = model.detail,
            steps = model.steps(),
            canSubmit = model.canSubmit,
            busy = model.busy,
            message = model.message ?: loadError,
            otherProblems = model.otherProblems,
            checkError = model.checkError,
            completed = model.completed != null,
            note = model.note,
            thumbnails = thumbs.toMap(),
        )
    }

    private fun edit(block: () -> Unit) = work {
        block()
        publish()
    }

    fun tick(step: String, checked: Boolean) = edit { model.setTick(step, checked) }
    fun reading(step: String, text: String) = edit { model.setReading(step, text) }
    fun corrective(step: String, text: String) = edit { model.setCorrectiveAction(step, text) }
    fun choose(step: String, option: String) = edit { model.choose(step, option) }
    fun text(step: String, text: String) = edit { model.setText(step, text) }
    fun signature(step: String, pad: SignaturePad) = edit { model.setSignature(step, pad) }
    fun note(text: String) = edit { model.setNote(text) }
    fun removePhoto(step: String, index: Int) = edit { model.removePhoto(step, index) }

    /** Hands the camera's JPEG to the core (upright, scaled, no metadata), then deletes the file. */
    fun photo(step: String, file: File, replacing: Int?) {
        state.value = state.value.copy(busy = true, canSubmit = false)
        work {
            val bytes = try {
                file.readBytes()
            } finally {
                file.delete()
            }
            val outcome = model.takePhoto(step, bytes, replacing)
            if (outcome is Outcome.Done) thumbs[outcome.value.sha256] = model.thumbnail(outcome.value)
            publish()
        }
    }

    fun submit() {
        state.value = state.value.copy(busy = true, canSubmit = false)
        work {
            val outcome = model.submit()
            if (outcome is Outcome.Done) {
                // Recorded durably on the phone; send it when there is a network, and drop
                // its reminders.
                SyncScheduler.syncNow(app)
                ReminderScheduler.plan(app)
            }
            publish()
        }
    }
}

/** A file in the cache the system camera writes to (shared through the FileProvider). */
private fun cameraFile(context: Context): File =
    File(context.cacheDir, "camera").apply { mkdirs() }.let { File(it, "photo-${System.nanoTime()}.jpg") }

private fun uriFor(context: Context, file: File): Uri =
    FileProvider.getUriForFile(context, "${context.packageName}.photos", file)

/**
 * Check: the occurrence's steps from the core — tick, reading (unit, allowed range, and the
 * corrective-action prompt when the core finds it out of range), choice, text, signature pad,
 * photo through the system camera with retake. After every change the core is asked what
 * `complete` would refuse (`checkProof`, recording nothing): "Complete check" is enabled when
 * it finds nothing, each problem's sentence is shown on the step it names, and a reading it
 * reports out of range opens "Out of range — what did you do?" while the person types.
 */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun CheckScreen(app: ProoflineApp, occurrence: UUID, onBack: () -> Unit) {
    val vm: CheckViewModel = viewModel(key = "check-$occurrence") { CheckViewModel(app, occurrence) }
    val ui by vm.ui.collectAsStateWithLifecycle()
    val context = LocalContext.current

    // The photo being taken: which step, which photo it replaces, and the file.
    var pendingStep by rememberSaveable { mutableStateOf<String?>(null) }
    var pendingReplace by rememberSaveable { mutableStateOf(-1) }
    var pendingPath by rememberSaveable { mutableStateOf<String?>(null) }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val step = pendingStep
        val path = pendingPath
        if (saved && step != null && path != null) {
            vm.photo(step, File(path), pendingReplace.takeIf { it >= 0 })
        } else if (path != null) {
            File(path).delete()
        }
        pendingStep = null
        pendingPath = null
    }
    // The manifest declares CAMERA (for the QR scanner); then the system camera intent too
    // needs it granted, so ask first.
    val launchCamera: () -> Unit = {
        val path = pendingPath
        if (path != null) camera.launch(uriFor(context, File(path)))
    }
    val cameraPermission = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) {
            launchCamera()
        } else {
            pendingStep = null
            pendingPath = null
        }
    }
    val takePhoto: (String, Int?) -> Unit = { step, replacing ->
        val file = cameraFile(context)
        pendingStep = step
        pendingReplace = replacing ?: -1
        pendingPath = file.path
        if (ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            launchCamera()
        } else {
            cameraPermission.launch(Manifest.permission.CAMERA)
        }
    }

    val detail = ui.detail
    Column(Modifier.fillMaxSize()) {
        TopAppBar(
            title = { Text(detail?.routineTitle ?: Copy.CHECK_TITLE) },
            navigationIcon = {
                IconButton(onClick = onBack, modifier = Modifier.heightIn(min = TapTarget)) {
                    Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = "Back")
                }
            },
        )
        if (ui.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        Column(
            modifier = Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(16.dp),
        ) {
            if (detail != null) CheckHeader(detail)
            CoreMessage(ui.message)
            for (step in ui.steps) {
                StepCard(
                    view = step,
                    thumbnails = ui.thumbnails,
                    enabled = !ui.completed,
                    vm = vm,
                    onTakePhoto = takePhoto,
                )
            }
            if (detail != null && !ui.completed) {
                var note by remember { mutableStateOf(ui.note) }
                OutlinedTextField(
                    value = note,
                    onValueChange = {
                        note = it
                        vm.note(it)
                    },
                    label = { Text("Note") },
                    modifier = Modifier.fillMaxWidth(),
                )
                // Problems naming no step of this check, and a failed check, verbatim.
                for (problem in ui.otherProblems) CoreMessage(problem)
                CoreMessage(ui.checkError)
                BigButton(
                    text = Copy.COMPLETE_CHECK,
                    onClick = vm::submit,
                    enabled = ui.canSubmit,
                    modifier = Modifier.semantics {
                        stateDescription = if (ui.canSubmit) "Ready" else "Not ready: see the steps"
                    },
                )
            }
            if (ui.completed && detail != null) {
                Text(
                    Formats.statusLabel(detail.status),
                    style = MaterialTheme.typography.headlineSmall,
                    color = MaterialTheme.colorScheme.primary,
                )
                BigButton(text = "Done", onClick = onBack)
            }
        }
    }
}

@Composable
private fun CheckHeader(detail: OccurrenceDetail) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(
            "${detail.siteName} · due ${Formats.localDayAndTime(detail.localWindow.due)}",
            style = MaterialTheme.typography.titleMedium,
        )
        Text(
            "${Formats.statusLabel(detail.status)} · ${detail.assigneeName}",
            style = MaterialTheme.typography.bodyMedium,
            color = MaterialTheme.colorScheme.onSurfaceVariant,
        )
        detail.assignmentNote?.let { Text(it, style = MaterialTheme.typography.bodyMedium) }
        if (detail.instructions.isNotBlank()) Text(detail.instructions, style = MaterialTheme.typography.bodyLarge)
    }
}

@Composable
private fun StepCard(
    view: StepView,
    thumbnails: Map<String, ByteArray?>,
    enabled: Boolean,
    vm: CheckViewModel,
    onTakePhoto: (String, Int?) -> Unit,
) {
    val step = view.step
    // A step the core only reports unanswered is not an error yet: its sentence is shown quietly.
    val flagged = view.message != null && !view.isUnanswered
    OutlinedCard(
        modifier = Modifier.fillMaxWidth(),
        border = BorderStroke(
            if (flagged) 2.dp else 1.dp,
            if (flagged) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.outline,
        ),
    ) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(10.dp)) {
            Text(
                step.title,
                style = MaterialTheme.typography.titleMedium,
                modifier = Modifier.semantics { heading() },
            )
            Text(step.requirement, style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
            when (val input = view.input) {
                is StepInput.Tick -> TickStep(step.title, input, enabled) { vm.tick(step.key, it) }
                is StepInput.Reading -> ReadingStep(view, input, enabled, vm)
                is StepInput.Choice -> ChoiceStep(step.options, input, enabled) { vm.choose(step.key, it) }
                is StepInput.Text -> TextStep(step.key, step.title, input.text, enabled) { vm.text(step.key, it) }
                is StepInput.Signature -> SignatureStep(step.title, input.pad, enabled) { vm.signature(step.key, it) }
                is StepInput.Photos -> PhotoStep(step.key, step.title, input.photos, thumbnails, enabled, onTakePhoto, vm)
            }
            // The core's sentence about this step, verbatim.
            val message = view.message
            if (flagged) {
                CoreMessage(message)
            } else if (message != null) {
                Text(message, style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
            }
        }
    }
}

@Composable
private fun TickStep(title: String, input: StepInput.Tick, enabled: Boolean, onChange: (Boolean) -> Unit) {
    Row(
        modifier = Modifier
            .fillMaxWidth()
            .heightIn(min = TapTarget)
            .toggleable(value = input.checked, enabled = enabled, role = Role.Checkbox, onValueChange = onChange)
            .semantics { contentDescription = title },
        verticalAlignment = Alignment.CenterVertically,
        horizontalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Checkbox(checked = input.checked, onCheckedChange = null, enabled = enabled)
        Text(if (input.checked) "Done" else "Tap when done", style = MaterialTheme.typography.bodyLarge)
    }
}

@Composable
private fun ReadingStep(view: StepView, input: StepInput.Reading, enabled: Boolean, vm: CheckViewModel) {
    val step = view.step
    // The fields keep their own text (typing stays immediate); the model gets every change.
    var value by remember(step.key) { mutableStateOf(input.text) }
    var corrective by remember(step.key) { mutableStateOf(input.correctiveAction) }
    val unit = step.unit
    val range = view.range
    val unitLabel: (@Composable () -> Unit)? = if (unit != null) @Composable { Text(unit) } else null
    val rangeLabel: (@Composable () -> Unit)? = if (range != null) @Composable { Text("Allowed: $range") } else null
    OutlinedTextField(
        value = value,
        onValueChange = {
            value = it
            vm.reading(step.key, it)
        },
        enabled = enabled,
        label = { Text(step.title) },
        suffix = unitLabel,
        supportingText = rangeLabel,
        isError = view.message != null && !view.isUnanswered,
        singleLine = true,
        textStyle = MaterialTheme.typography.titleLarge,
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Decimal),
        modifier = Modifier.fillMaxWidth().semantics {
            contentDescription = listOfNotNull(step.title, step.unit, view.range?.let { "allowed $it" }).joinToString(", ")
        },
    )
    // Opens as soon as the core reports this reading out of range; stays while its answer is written.
    if (view.showCorrectivePrompt) {
        Text(Copy.OUT_OF_RANGE_TITLE, style = MaterialTheme.typography.titleMedium, color = MaterialTheme.colorScheme.error)
        OutlinedTextField(
            value = corrective,
            onValueChange = {
                corrective = it
                vm.corrective(step.key, it)
            },
            enabled = enabled,
            label = { Text(Copy.OUT_OF_RANGE_TITLE) },
            minLines = 2,
            modifier = Modifier.fillMaxWidth(),
        )
    }
}

@Composable
private fun TextStep(key: String, title: String, initial: String, enabled: Boolean, onChange: (String) -> Unit) {
    var value by remember(key) { mutableStateOf(initial) }
    OutlinedTextField(
        value = value,
        onValueChange = {
            value = it
            onChange(it)
        },
        enabled = enabled,
        label = { Text(title) },
        minLines = 2,
        modifier = Modifier.fillMaxWidth(),
    )
}

@Composable
private fun ChoiceStep(options: List<String>, input: StepInput.Choice, enabled: Boolean, onChoose: (String) -> Unit) {
    Column {
        for (option in options) {
            Row(
                modifier = Modifier
                    .fillMaxWidth()
                    .heightIn(min = TapTarget)
                    .selectable(selected = input.option == option, enabled = enabled, role = Role.RadioButton) { onChoose(option) },
                verticalAlignment = Alignment.CenterVertically,
                horizontalArrangement = Arrangement.spacedBy(12.dp),
            ) {
                RadioButton(selected = input.option == option, onClick = null, enabled = enabled)
                Text(option, style = MaterialTheme.typography.bodyLarge)
            }
        }
    }
}

/** A signature pad: draw with a finger; strokes go to the core as opaque SVG path data. */
@Composable
private fun SignatureStep(title: String, initial: SignaturePad, enabled: Boolean, onChange: (SignaturePad) -> Unit) {
    var pad by remember { mutableStateOf(initial) }
    val ink = MaterialTheme.colorScheme.onSurface
    Box(
        modifier = Modifier
            .fillMaxWidth()
            .height(180.dp)
            .border(1.dp, MaterialTheme.colorScheme.outline, RoundedCornerShape(8.dp))
            .background(MaterialTheme.colorScheme.surfaceVariant, RoundedCornerShape(8.dp))
            .semantics {
                contentDescription = "$title, signature pad"
                stateDescription = if (pad.isEmpty) "Empty" else "Signed"
            },
    ) {
        if (pad.isEmpty) {
            Text(Copy.SIGN_HERE, modifier = Modifier.align(Alignment.Center), color = MaterialTheme.colorScheme.onSurfaceVariant)
        }
        Canvas(
            modifier = Modifier
                .fillMaxSize()
                .pointerInput(enabled) {
                    if (!enabled) return@pointerInput
                    detectDragGestures(
                        onDragStart = { at: Offset ->
                            pad = pad.startStroke(SignaturePad.Point(at.x, at.y), size.width.toFloat(), size.height.toFloat())
                        },
                        onDragEnd = { onChange(pad) },
                        onDrag = { change, _ ->
                            pad = pad.extendStroke(SignaturePad.Point(change.position.x, change.position.y))
                        },
                    )
                },
        ) {
            for (stroke in pad.strokes) {
                if (stroke.isEmpty()) continue
                val path = Path()
                path.moveTo(stroke.first().x, stroke.first().y)
                for (p in stroke.drop(1)) path.lineTo(p.x, p.y)
                drawPath(path, color = ink, style = Stroke(width = 6f, cap = StrokeCap.Round, join = StrokeJoin.Round))
            }
        }
    }
    TextButton(
        onClick = {
            pad = pad.cleared()
            onChange(pad)
        },
        enabled = enabled && !pad.isEmpty,
        modifier = Modifier.heightIn(min = TapTarget),
    ) { Text(Copy.CLEAR_SIGNATURE) }
}

@OptIn(androidx.compose.foundation.layout.ExperimentalLayoutApi::class)
@Composable
private fun PhotoStep(
    key: String,
    title: String,
    photos: List<PhotoRecord>,
    thumbnails: Map<String, ByteArray?>,
    enabled: Boolean,
    onTakePhoto: (String, Int?) -> Unit,
    vm: CheckViewModel,
) {
    FlowRow(horizontalArrangement = Arrangement.spacedBy(12.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        photos.forEachIndexed { index, photo ->
            Column(horizontalAlignment = Alignment.CenterHorizontally) {
                JpegThumbnail(thumbnails[photo.sha256], "$title, photo ${index + 1}", size = 120.dp)
                BigOutlinedButton(text = Copy.RETAKE, onClick = { onTakePhoto(key, index) }, enabled = enabled)
                TextButton(onClick = { vm.removePhoto(key, index) }, enabled = enabled) { Text("Remove") }
            }
        }
    }
    BigButton(text = Copy.TAKE_PHOTO, onClick = { onTakePhoto(key, null) }, enabled = enabled)
}
