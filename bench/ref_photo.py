"""Pillow side of the photo comparison (run by scripts/bench).

The same job as Proofline's prepare_photo (core/benches/photo.rs, `photo/prepare_12mp`):
the 12 MP sideways fixture (EXIF orientation 6), decoded, turned upright
(ImageOps.exif_transpose), resized with Lanczos to 1200x1600, encoded as JPEG quality 80
(4:2:0), a 240x320 thumbnail from that, encoded the same, both SHA-256'd, in memory.

Usage: ref_photo.py draft|full [runs]. `draft` lets libjpeg-turbo decode at a reduced scale
(Image.draft, scaled IDCT) no smaller than the output; `full` decodes all 12 MP. Run each mode
in its own process: the peak memory is the resident high-water mark (VmHWM, as
getrusage's ru_maxrss) of one pipeline run minus the resident size before it (the file
already read, Pillow imported), the way core/benches/photo.rs measures Proofline.
Prints one JSON object: ms per photo [median, min, max] and the peak extra MB.
"""

import hashlib
import io
import json
import pathlib
import resource
import sys
import time

from PIL import Image, ImageOps

FIXTURE = (
    pathlib.Path(__file__).resolve().parents[2]
    / "shared/fixtures/photos/forest-4032x3024-orient6.jpg"
)
LONG, THUMB_LONG, QUALITY = 1600, 320, 80


def fit(w, h, long_side):
    if w >= h:
        return long_side, round(h * long_side / w)
    return round(w * long_side / h), long_side


def prepare(data, draft):
    im = Image.open(io.BytesIO(data))
    if draft:
        w, h = fit(*im.size, LONG)  # stored (sideways) orientation
        im.draft("RGB", (w, h))
    im = ImageOps.exif_transpose(im).convert("RGB")
    im = im.resize(fit(*im.size, LONG), Image.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=QUALITY, subsampling=2)
    thumb = im.resize(fit(*im.size, THUMB_LONG), Image.LANCZOS)
    tout = io.BytesIO()
    thumb.save(tout, "JPEG", quality=QUALITY, subsampling=2)
    jpeg, tjpeg = out.getvalue(), tout.getvalue()
    return (
        im.size,
        thumb.size,
        hashlib.sha256(jpeg).hexdigest(),
        hashlib.sha256(tjpeg).hexdigest(),
    )


def status_kb(field):
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return None


def main():
    mode = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    draft = mode == "draft"
    data = FIXTURE.read_bytes()
    before = status_kb("VmRSS:")
    size, thumb_size, _, _ = prepare(data, draft)
    peak = status_kb("VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        prepare(data, draft)
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    print(
        json.dumps(
            {
                "mode": mode,
                "size": size,
                "thumb": thumb_size,
                "ms": [samples[len(samples) // 2], samples[0], samples[-1]],
                "peak_extra_mb": (peak - before) / 1024 if before else None,
                "peak_rss_mb": peak / 1024,
                "pillow": Image.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
