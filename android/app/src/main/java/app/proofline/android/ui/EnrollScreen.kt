package app.proofline.android.ui

import android.os.Build
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewmodel.compose.viewModel
import app.proofline.android.BuildConfig
import app.proofline.android.ProoflineApp
import app.proofline.android.work.ReminderScheduler
import app.proofline.android.work.SyncScheduler
import app.proofline.shift.Copy
import app.proofline.shift.EnrollModel
import com.journeyapps.barcodescanner.ScanContract
import com.journeyapps.barcodescanner.ScanOptions
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import androidx.activity.compose.rememberLauncherForActivityResult

/** What the Enroll screen shows. */
data class EnrollUi(
    val code: String = "",
    val server: String = "",
    val canJoin: Boolean = false,
    val busy: Boolean = false,
    val error: String? = null,
    val enrolled: Boolean = false,
)

class EnrollViewModel(private val app: ProoflineApp) : CoreViewModel() {
    private val model = EnrollModel(app.session, BuildConfig.DEFAULT_SERVER)
    private val state = MutableStateFlow(snapshot())
    val ui: StateFlow<EnrollUi> = state.asStateFlow()

    private fun snapshot(enrolled: Boolean = false) = EnrollUi(
        code = model.code, server = model.server, canJoin = model.canJoin,
        busy = model.busy, error = model.error, enrolled = enrolled,
    )

    // Field edits touch only the form (no core call): done at once on the main thread, so
    // typing stays immediate. The fields are disabled while "Join site" runs.
    fun onCode(text: String) {
        model.onCodeChange(text)
        state.value = snapshot()
    }

    fun onServer(text: String) {
        model.onServerChange(text)
        state.value = snapshot()
    }

    fun onScanned(payload: String) {
        if (state.value.busy) return
        model.onScanned(payload)
        state.value = snapshot()
    }

    fun join() {
        state.value = state.value.copy(busy = true, canJoin = false)
        work {
            val name = "${Build.MANUFACTURER} ${Build.MODEL}"
            val ok = model.join(name)
            if (ok) {
                ReminderScheduler.plan(app)
                SyncScheduler.syncNow(app)
            }
            state.value = snapshot(enrolled = ok)
        }
    }
}

/** Enroll: type or scan the one-time code a supervisor issued; "Join site". */
@Composable
fun EnrollScreen(app: ProoflineApp, link: String?, onEnrolled: () -> Unit) {
    val vm: EnrollViewModel = viewModel { EnrollViewModel(app) }
    val ui by vm.ui.collectAsStateWithLifecycle()
    val scan = rememberLauncherForActivityResult(ScanContract()) { result ->
        result.contents?.let { vm.onScanned(it) }
    }
    LaunchedEffect(link) { if (link != null) vm.onScanned(link) }
    LaunchedEffect(ui.enrolled) { if (ui.enrolled) onEnrolled() }

    Column(
        modifier = Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(20.dp),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        Text(Copy.ENROLL_TITLE, style = MaterialTheme.typography.headlineSmall, modifier = Modifier.semantics { heading() })
        OutlinedTextField(
            value = ui.code,
            onValueChange = vm::onCode,
            enabled = !ui.busy,
            label = { Text(Copy.ENROLLMENT_CODE) },
            singleLine = true,
            textStyle = MaterialTheme.typography.titleLarge,
            keyboardOptions = KeyboardOptions(
                capitalization = KeyboardCapitalization.Characters,
                keyboardType = KeyboardType.Ascii,
                imeAction = ImeAction.Next,
            ),
            modifier = Modifier.fillMaxWidth(),
        )
        BigOutlinedButton(
            text = Copy.SCAN_CODE,
            onClick = {
                scan.launch(ScanOptions().setDesiredBarcodeFormats(ScanOptions.QR_CODE).setBeepEnabled(false).setPrompt(Copy.ENROLLMENT_CODE))
            },
            modifier = Modifier.fillMaxWidth(),
        )
        OutlinedTextField(
            value = ui.server,
            onValueChange = vm::onServer,
            enabled = !ui.busy,
            label = { Text(Copy.SERVER_ADDRESS) },
            singleLine = true,
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Uri, imeAction = ImeAction.Done),
            modifier = Modifier.fillMaxWidth(),
        )
        CoreMessage(ui.error)
        if (ui.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        BigButton(text = Copy.JOIN_SITE, onClick = vm::join, enabled = ui.canJoin && !ui.busy)
    }
}
