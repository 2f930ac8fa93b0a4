package app.proofline.shift

/**
 * A signature as the pad draws it: strokes of points in the pad's own coordinates. The core
 * stores a signature as opaque data; both apps write it as SVG path data with whole pad
 * points, "M12 40 L13 41 … M…" (docs/screens.md), so either app or the web can draw it back.
 */
data class SignaturePad(
    val strokes: List<List<Point>> = emptyList(),
    val width: Float = 0f,
    val height: Float = 0f,
) {
    data class Point(val x: Float, val y: Float)

    val isEmpty: Boolean get() = strokes.none { it.isNotEmpty() }

    fun startStroke(at: Point, width: Float, height: Float) =
        copy(strokes = strokes + listOf(listOf(at)), width = width, height = height)

    fun extendStroke(to: Point): SignaturePad {
        if (strokes.isEmpty()) return copy(strokes = listOf(listOf(to)))
        return copy(strokes = strokes.dropLast(1) + listOf(strokes.last() + to))
    }

    fun cleared() = SignaturePad(width = width, height = height)

    /** SVG path data, whole points: `M x y L x y … M x y …`, one `M` per stroke. */
    fun encode(): String =
        strokes.filter { it.isNotEmpty() }.joinToString(" ") { stroke ->
            stroke.mapIndexed { i, p -> (if (i == 0) "M" else "L") + "${Math.round(p.x)} ${Math.round(p.y)}" }.joinToString(" ")
        }

    companion object {
        /** Reads [encode]'s output back (for showing a recorded signature); null if it is not path data. */
        fun decode(data: String): SignaturePad? {
            val strokes = mutableListOf<List<Point>>()
            val tokens = data.split(' ').filter { it.isNotEmpty() }
            if (tokens.isEmpty() || !tokens[0].startsWith("M")) return null
            var i = 0
            while (i + 1 < tokens.size) {
                val head = tokens[i]
                val x = head.drop(1).toFloatOrNull() ?: return null
                val y = tokens[i + 1].toFloatOrNull() ?: return null
                if (head.startsWith("M")) strokes.add(listOf(Point(x, y)))
                else if (strokes.isNotEmpty()) strokes[strokes.size - 1] = strokes.last() + Point(x, y)
                i += 2
            }
            return SignaturePad(strokes, strokes.flatten().maxOfOrNull { it.x } ?: 0f, strokes.flatten().maxOfOrNull { it.y } ?: 0f)
        }
    }
}
