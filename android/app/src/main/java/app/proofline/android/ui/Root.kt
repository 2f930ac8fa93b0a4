package app.proofline.android.ui

import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Assessment
import androidx.compose.material.icons.filled.Sync
import androidx.compose.material.icons.filled.Today
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.navigation.NavHostController
import androidx.navigation.NavType
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.currentBackStackEntryAsState
import androidx.navigation.compose.rememberNavController
import androidx.navigation.navArgument
import app.proofline.android.ProoflineApp
import app.proofline.android.push.PushTokenWorker
import app.proofline.android.work.ReminderScheduler
import app.proofline.shift.Copy
import app.proofline.shift.Outcome
import kotlinx.coroutines.withContext
import java.util.UUID

private object Routes {
    const val ATTENTION = "attention"
    const val REVIEW = "review"
    const val SYNC = "sync"
    const val CHECK = "check/{occurrence}"
    fun check(occurrence: UUID) = "check/$occurrence"
}

/** Where the app stands on launch: opening the device folder, not enrolled, or ready. */
private enum class Launch { OPENING, ENROLL, READY }

/**
 * The app's screens: Enroll until the phone is enrolled, then the tabs Today (Attention),
 * Review (supervisors and leads only) and Sync, and the Check screen over them. The offline
 * banner sits above every screen.
 */
@Composable
fun ProoflineRoot(app: ProoflineApp, openCheck: UUID?, onCheckOpened: () -> Unit, enrollLink: String?) {
    val online by app.online.collectAsStateWithLifecycle()
    var phase by remember { mutableStateOf(Launch.OPENING) }
    var openError by remember { mutableStateOf<String?>(null) }
    LaunchedEffect(Unit) {
        val opened = withContext(CoreThread) { app.session.open() }
        when (opened) {
            is Outcome.Done -> phase = if (opened.value) Launch.READY else Launch.ENROLL
            is Outcome.Failed -> {
                openError = opened.failure.message
                phase = Launch.ENROLL
            }
        }
        if (phase == Launch.READY) withContext(CoreThread) { ReminderScheduler.plan(app) }
    }
    Column(Modifier.fillMaxSize()) {
        when (phase) {
            Launch.OPENING -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
                CircularProgressIndicator()
            }
            Launch.ENROLL -> Scaffold { padding ->
                Column(Modifier.padding(padding)) {
                    OfflineBanner(online)
                    CoreMessage(openError, Modifier.padding(16.dp))
                    EnrollScreen(app = app, link = enrollLink, onEnrolled = {
                        phase = Launch.READY
                        PushTokenWorker.registerCurrent(app)
                    })
                }
            }
            Launch.READY -> MainTabs(app, online, openCheck, onCheckOpened)
        }
    }
}

@Composable
private fun MainTabs(app: ProoflineApp, online: Boolean, openCheck: UUID?, onCheckOpened: () -> Unit) {
    val nav = rememberNavController()
    var reviewer by remember { mutableStateOf(false) }
    LaunchedEffect(Unit) {
        reviewer = withContext(CoreThread) { runCatching { app.session.reviewSites().isNotEmpty() }.getOrDefault(false) }
    }
    LaunchedEffect(openCheck) {
        if (openCheck != null) {
            nav.navigate(Routes.check(openCheck)) { launchSingleTop = true }
            onCheckOpened()
        }
    }
    val entry by nav.currentBackStackEntryAsState()
    val route = entry?.destination?.route
    Scaffold(
        bottomBar = {
            if (route != Routes.CHECK) {
                NavigationBar {
                    TabItem(nav, route, Routes.ATTENTION, Copy.ATTENTION_TAB) { Icon(Icons.Filled.Today, contentDescription = null) }
                    if (reviewer) {
                        TabItem(nav, route, Routes.REVIEW, Copy.REVIEW_TITLE) { Icon(Icons.Filled.Assessment, contentDescription = null) }
                    }
                    TabItem(nav, route, Routes.SYNC, Copy.SYNC_TITLE) { Icon(Icons.Filled.Sync, contentDescription = null) }
                }
            }
        },
    ) { padding ->
        Column(Modifier.padding(padding).fillMaxSize()) {
            OfflineBanner(online)
            NavHost(navController = nav, startDestination = Routes.ATTENTION, modifier = Modifier.fillMaxSize()) {
                composable(Routes.ATTENTION) {
                    AttentionScreen(app = app, onOpenCheck = { nav.navigate(Routes.check(it)) })
                }
                composable(Routes.REVIEW) {
                    ReviewScreen(app = app, onOpenCheck = { nav.navigate(Routes.check(it)) })
                }
                composable(Routes.SYNC) {
                    SyncScreen(app = app)
                }
                composable(Routes.CHECK, arguments = listOf(navArgument("occurrence") { type = NavType.StringType })) { backStack ->
                    val id = UUID.fromString(backStack.arguments?.getString("occurrence"))
                    CheckScreen(app = app, occurrence = id, onBack = { nav.popBackStack() })
                }
            }
        }
    }
}

@Composable
private fun androidx.compose.foundation.layout.RowScope.TabItem(
    nav: NavHostController,
    current: String?,
    route: String,
    label: String,
    icon: @Composable () -> Unit,
) {
    NavigationBarItem(
        selected = current == route,
        onClick = {
            nav.navigate(route) {
                popUpTo(Routes.ATTENTION) { saveState = true }
                launchSingleTop = true
                restoreState = true
            }
        },
        icon = icon,
        label = { Text(label) },
    )
}
