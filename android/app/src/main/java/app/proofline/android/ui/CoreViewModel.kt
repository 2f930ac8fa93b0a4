package app.proofline.android.ui

import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Job
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import java.util.concurrent.Executors

/**
 * The one thread the screen models run on: core calls block (disk, photo processing,
 * network), and the :shift models are not thread-safe. One thread keeps them in order.
 */
val CoreThread: CoroutineDispatcher = Executors.newSingleThreadExecutor { r ->
    Thread(r, "proofline-core").apply { isDaemon = true }
}.asCoroutineDispatcher()

/** A view model whose work runs on [CoreThread] and publishes state on the main thread. */
abstract class CoreViewModel : ViewModel() {
    protected fun work(block: suspend () -> Unit): Job = viewModelScope.launch {
        withContext(CoreThread) { block() }
    }
}
