"""Collects the outputs of one scripts/bench run into bench/RESULTS.md (and stdout).

Usage: collect.py LOG_DIR CRITERION_DIR OUT.md. LOG_DIR holds what scripts/bench wrote:
cadence_compare.log, photo.log, store.log (one per run: store.1.log, ...), sync.log,
dispatch.log, ref_cadence.json, ref_photo_draft.json, ref_photo_full.json, ffi_size,
meta.json. Every figure is a median with its min–max; every ratio is taken between two
figures of this run. A figure missing from a log becomes "not measured" in the table.
"""

import json
import pathlib
import re
import statistics
import sys

LOG, CRIT, OUT = (pathlib.Path(a) for a in sys.argv[1:4])

rows = []  # (metric, proofline, reference, ratio, target, met)
gaps = []


def read(name):
    p = LOG / name
    return p.read_text(errors="replace") if p.exists() else ""


def load_json(name):
    text = read(name)
    for line in text.splitlines()[::-1]:
        line = line.strip()
        if line.startswith("BENCH_JSON "):
            line = line[len("BENCH_JSON ") :]
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                pass
    return None


def spread(values, fmt):
    return f"{fmt(values[0])} ({fmt(values[1])}–{fmt(values[2])})"


def ms(v):
    return f"{v:.1f} ms" if v >= 10 else f"{v:.2f} ms"


def us(v):
    return f"{v:.1f} µs" if v < 1000 else f"{v / 1000:.1f} ms"


def times(x):
    return f"{x:.0f}×" if x >= 10 else f"{x:.2f}×"


def rate(v):
    return f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.0f} k/s"


def ratio(a, b):
    return times(a / b) if a and b else "—"


def missing(metric, what):
    gaps.append(f"{metric}: {what}")
    rows.append((metric, "not measured", "—", "—", "—", "—"))


# ---- cadence ----------------------------------------------------------------------------
pl, py = load_json("cadence_compare.log"), load_json("ref_cadence.json")
if pl and py:
    n = pl["year"]["occurrences"]
    if n != py["year"]["occurrences"]:
        gaps.append(f"cadence: occurrence counts differ ({n} vs {py['year']['occurrences']})")
    # occurrences/s: median from the median time; spread from the min/max times
    pr = [n / pl["year"]["seconds"][i] for i in (0, 2, 1)]
    dr = [py["year"]["occurrences"] / py["year"]["seconds"][i] for i in (0, 2, 1)]
    rows.append(
        (
            f"cadence: occurrences/s, {pl['year']['routines']} routines ({pl['rules']} rules "
            f"of bench/rules.txt in turn) started 2024-01-01, expanded over 2026 ({n:,} occurrences)",
            spread(pr, rate),
            "python-dateutil " + spread(dr, rate),
            ratio(pr[0], dr[0]),
            "≥ 10 M/s",
            "yes" if pr[0] >= 10e6 else "no",
        )
    )
    old_new = {}
    for tool, d in (("Proofline", pl), ("dateutil", py)):
        old_new[tool] = d["started_10_years_ago"]["seconds"][0] / d["started_yesterday"]["seconds"][0]
    for key, label in (
        ("started_yesterday", "started yesterday"),
        ("started_10_years_ago", "started 10 years ago"),
    ):
        p = [s * 1e6 for s in pl[key]["seconds"]]
        d = [s * 1e6 for s in py[key]["seconds"]]
        rows.append(
            (
                f"cadence: 2-day window, each of the {pl['rules']} rules once, {label} "
                f"({pl[key]['occurrences']} occurrences)",
                spread(p, us),
                "python-dateutil " + spread(d, us),
                times(d[0] / p[0]) + " faster" if p[0] else "—",
                "—",
                "—",
            )
        )
    rows.append(
        (
            "cadence: 2-day window cost, started 10 years ago / started yesterday",
            times(old_new["Proofline"]),
            "python-dateutil " + times(old_new["dateutil"]),
            "—",
            "old within 1.5× of new",
            "yes" if old_new["Proofline"] <= 1.5 else "no",
        )
    )
else:
    missing("cadence", "cadence_compare.log or ref_cadence.json has no result")

def criterion_seconds(*parts):
    """Per-iteration seconds [median, min, max] over a criterion benchmark's samples."""
    path = CRIT.joinpath(*parts, "new", "sample.json")
    if not path.exists():
        return None
    s = json.loads(path.read_text())
    per = sorted(t / i / 1e9 for t, i in zip(s["times"], s["iters"]))
    return [statistics.median(per), per[0], per[-1]]


# The README's own cadence figures (core/benches/cadence.rs: America/New_York site with
# closed Sundays, criterion), run in the same invocation; no reference of its own.
year_ny = criterion_seconds("site_year", "500_routines")
new_ny = criterion_seconds("two_day_window", "started_yesterday")
old_ny = criterion_seconds("two_day_window", "started_10_years_ago")
if new_ny and old_ny:
    rows.append(
        (
            "cadence, README's bench (core/benches/cadence.rs: New York site, closed Sundays): "
            "2-day window, 10 rules started yesterday / 10 years ago",
            f"{us(new_ny[0] * 1e6)} / {us(old_ny[0] * 1e6)} (old: {us(old_ny[1] * 1e6)}–{us(old_ny[2] * 1e6)})",
            "—",
            times(old_ny[0] / new_ny[0]) + " old/new",
            "old within 1.5× of new",
            "yes" if old_ny[0] / new_ny[0] <= 1.5 else "no",
        )
    )
else:
    missing("cadence (README's bench)", "no criterion samples for two_day_window")
if year_ny:
    bench = CRIT / "site_year" / "500_routines" / "new" / "benchmark.json"
    n = json.loads(bench.read_text()).get("throughput", {}).get("Elements") if bench.exists() else None
    r = [n / year_ny[i] for i in (0, 2, 1)] if n else None
    rows.append(
        (
            "cadence, README's bench: occurrences/s, one year of a 500-routine site "
            f"(New York, closed Sundays; {n:,} occurrences)" if n else "cadence, README's bench: one site-year",
            spread(r, rate) if r else spread([x * 1e3 for x in year_ny], ms),
            "—",
            "—",
            "≥ 10 M/s",
            ("yes" if r[0] >= 10e6 else "no") if r else "—",
        )
    )

# ---- photo ------------------------------------------------------------------------------
sample = CRIT / "photo" / "prepare_12mp" / "new" / "sample.json"
draft, full = load_json("ref_photo_draft.json"), load_json("ref_photo_full.json")
photo_log = read("photo.log")
if sample.exists() and draft and full:
    s = json.loads(sample.read_text())
    per = sorted(t / i / 1e6 for t, i in zip(s["times"], s["iters"]))
    p = [statistics.median(per), per[0], per[-1]]
    for ref, label in ((draft, "with Image.draft scaled decode"), (full, "full decode")):
        rows.append(
            (
                "photo: 12 MP JPEG (EXIF 6) → upright 1200×1600 JPEG q80 + 240×320 thumbnail "
                f"+ SHA-256, ms per photo, one core (reference: Pillow {ref.get('pillow', '')}, {label})",
                spread(p, ms),
                spread(ref["ms"], ms),
                f"{ref['ms'][0] / p[0]:.2f}× faster" if p[0] else "—",
                "≤ 70 ms",
                "yes" if p[0] <= 70 else "no",
            )
        )
    m = re.search(r"peak extra memory of one capture: ([\d.]+) MB", photo_log)
    if m:
        mem = float(m.group(1))
        for ref, label in ((draft, "draft"), (full, "full decode")):
            rows.append(
                (
                    f"photo: peak extra memory of one photo (VmHWM − VmRSS before; Pillow {label})",
                    f"{mem:.1f} MB",
                    f"{ref['peak_extra_mb']:.1f} MB",
                    f"{ref['peak_extra_mb'] / mem:.1f}× less" if mem else "—",
                    "≤ 80 MB",
                    "yes" if mem <= 80 else "no",
                )
            )
    else:
        missing("photo peak memory", "no peak-memory line in photo.log")
else:
    missing("photo", "no criterion sample for photo/prepare_12mp or no Pillow result")

# ---- store ------------------------------------------------------------------------------
store_logs = sorted(LOG.glob("store.*.log"))
pat = re.compile(r"^(\S[^\n]*?)\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms\s+max\s+([\d.]+) ms\s+\((\d+) runs\)", re.M)
found = {}
for path in store_logs:
    for name, p50, p99, mx, runs in pat.findall(path.read_text(errors="replace")):
        found.setdefault(name.strip(), []).append((float(p50), float(p99), int(runs)))
fixture = re.search(r"fixture: ([^\n]*)", store_logs[0].read_text()) if store_logs else None
for name, label, target, limit in (
    ("attention/staff", "store: attention feed, staff, 2 years of history, 200 routines", "p99 < 5 ms", 5.0),
    ("attention/lead", "store: attention feed, site lead (repeat-failure scans of all 200 routines)", "—", None),
    ("complete/durable", "store: durable completion write (WAL, synchronous=FULL)", "< 5 ms (p99)", 5.0),
):
    vals = found.get(name)
    if not vals:
        missing(label, f"no `{name}` line in the store logs")
        continue
    p50 = sorted(v[0] for v in vals)
    p99 = sorted(v[1] for v in vals)
    k = len(vals)

    def cell(xs):
        med = statistics.median(xs)
        return f"{med:.2f} ms" + (f" ({xs[0]:.2f}–{xs[-1]:.2f})" if k > 1 else "")

    rows.append(
        (
            f"{label}, p50 / p99 ({k} run{'s' if k > 1 else ''} of {vals[0][2]} calls)",
            f"p50 {cell(p50)}, p99 {cell(p99)}",
            "—",
            "—",
            target,
            ("yes" if statistics.median(p99) < limit else "no") if limit else "—",
        )
    )

# ---- sync and escalation: the server benches' own tables ------------------------------------
def table(text):
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] != "metric" and not cells[0].startswith("---"):
            out.append(cells)
    return out


sync = table(read("sync.log"))
if sync:
    bare = next((r for r in sync if r[0].startswith("bare SQLite insert")), None)
    ratios = {r[0]: r for r in sync if "/ bare insert" in r[0]}
    for metric, measured, target, met in sync:
        if metric.startswith("bare SQLite insert") or "/ bare insert" in metric:
            continue
        ref, rat = "—", "—"
        if metric.startswith("push ingest") and bare:
            ref = f"bare rusqlite insert of the same rows: {bare[1]}"
            tail = metric.split(", ")[-1]
            for k, r in ratios.items():
                if tail.split(" ")[0] in k and (("one device" in tail) == ("one device" in k)):
                    rat, target, met = r[1], f"{target}; ≥ 50 % of bare" if target != "—" else r[2], (
                        f"{met}; {r[3]}" if met != "—" else r[3]
                    )
        rows.append((f"sync: {metric}", measured, ref, rat, target, met))
else:
    missing("sync", "no table in sync.log")

dispatch = table(read("dispatch.log"))
if dispatch:
    for metric, measured, target, met in dispatch:
        rows.append((metric, measured, "—", "—", target, met))
else:
    missing("escalation", "no table in dispatch.log")

# ---- size -------------------------------------------------------------------------------
size = read("ffi_size").strip()
if size.isdigit():
    b = int(size)
    rows.append(
        (
            "size: stripped FFI library as shipped (profile `ffi-release`, the one `scripts/bindings --release` builds; libproofline_ffi.so)",
            f"{b / 1e6:.2f} MB ({b:,} bytes)",
            "—",
            "—",
            "≤ 8 MB",
            "yes" if b <= 8_000_000 else "no",
        )
    )
else:
    missing("size", "the ffi-release build did not produce the library")

# ---- write ------------------------------------------------------------------------------
meta = json.loads(read("meta.json") or "{}")
lines = [
    "# Proofline benchmarks, side by side",
    "",
    "Generated by `scripts/bench` — do not edit by hand; run it again.",
    "",
    f"- date: {meta.get('date', '?')}",
    f"- CPU: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores; {meta.get('os', '')}",
    f"- toolchain: {meta.get('rustc', '?')}; {meta.get('python', '?')}",
    f"- total runtime of `scripts/bench`: {meta.get('runtime', '?')}",
    "",
    "Each figure is the median of repeated runs (samples) with the min–max in brackets; each",
    "ratio is between two figures of this same run. Proofline's figures come from the code the",
    "apps and the server run: `CompiledCadence` (core/benches/cadence_compare.rs, the rules",
    "of bench/rules.txt), `prepare_photo` (criterion `photo/prepare_12mp`), the device store",
    "(`Device::attention`, `Device::complete`: core/benches/store.rs), the real server over",
    "loopback (sync-server/benches/sync.rs, dispatch.rs). The references: python-dateutil",
    "(bench/ref_cadence.py, same rules, same windows) and Pillow (bench/ref_photo.py, same job)",
    "installed by the script into .tools/bench-venv, and, for sync ingest, a bare rusqlite",
    "insert of the same rows timed inside the sync bench. Targets are those of the earlier",
    "issues (README, Performance); \"met\" compares the median with the target.",
    "",
    "| metric | Proofline | reference | ratio | target | met |",
    "|---|---|---|---|---|---|",
]
for r in rows:
    lines.append("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
lines.append("")
lines.append("Notes:")
lines.append("")
lines.append(
    "- Cadence: the Proofline side expands on a UTC site with no closed days, as dateutil "
    "(naive datetimes) does; both sides count the same occurrences. dateutil's `between` "
    "replays each rule from its start, hence its cost for old rules."
)
lines.append(
    "- Photo: Proofline's peak memory is measured around one `capture_photo` (the pipeline "
    "plus the blob-store write); Pillow's around one run of the same pipeline in a fresh "
    "process. Both include the decoded 12 MP (or scaled) image."
)
if fixture:
    lines.append(f"- Store fixture: {fixture.group(1)}.")
lines.append(
    "- The machine is shared: other work on its 2 cores widens the spreads (store and sync "
    "especially)."
)
if gaps:
    lines.append("")
    lines.append("Not measured in this run:")
    lines.append("")
    lines.extend(f"- {g}" for g in gaps)
text = "\n".join(lines) + "\n"
OUT.write_text(text)
print(text)
