package app.proofline.android.ui.theme

import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Typography
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.text.TextStyle
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp

/** Minimum height of anything tapped on the floor (gloves): well above the 48 dp guideline. */
val TapTarget = 64.dp

private val Green = Color(0xFF2E7D32)
private val GreenLight = Color(0xFF81C784)
private val Amber = Color(0xFFFFB300)
private val Red = Color(0xFFC62828)
private val RedLight = Color(0xFFEF9A9A)

private val DarkColors = darkColorScheme(
    primary = GreenLight,
    onPrimary = Color(0xFF00390A),
    secondary = Amber,
    onSecondary = Color(0xFF2A1800),
    error = RedLight,
    onError = Color(0xFF5F0000),
    background = Color(0xFF101418),
    surface = Color(0xFF101418),
    surfaceVariant = Color(0xFF242A30),
    onSurface = Color(0xFFE8ECEF),
    onSurfaceVariant = Color(0xFFC4CBD2),
)

private val LightColors = lightColorScheme(
    primary = Green,
    onPrimary = Color.White,
    secondary = Color(0xFF8A5A00),
    onSecondary = Color.White,
    error = Red,
    onError = Color.White,
)

/** Large type: read at arm's length, in a hurry. */
private val FieldTypography = Typography(
    headlineSmall = TextStyle(fontSize = 26.sp, lineHeight = 32.sp, fontWeight = FontWeight.SemiBold),
    titleLarge = TextStyle(fontSize = 22.sp, lineHeight = 28.sp, fontWeight = FontWeight.SemiBold),
    titleMedium = TextStyle(fontSize = 19.sp, lineHeight = 26.sp, fontWeight = FontWeight.Medium),
    bodyLarge = TextStyle(fontSize = 18.sp, lineHeight = 26.sp),
    bodyMedium = TextStyle(fontSize = 16.sp, lineHeight = 22.sp),
    labelLarge = TextStyle(fontSize = 18.sp, lineHeight = 24.sp, fontWeight = FontWeight.SemiBold),
)

/** Dark by default on dark phones (kitchens, basements, night shifts); light otherwise. */
@Composable
fun ProoflineTheme(dark: Boolean = isSystemInDarkTheme(), content: @Composable () -> Unit) {
    MaterialTheme(
        colorScheme = if (dark) DarkColors else LightColors,
        typography = FieldTypography,
        content = content,
    )
}
