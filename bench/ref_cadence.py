"""python-dateutil side of the cadence comparison (run by scripts/bench).

Expands the rule set in bench/rules.txt exactly as core/benches/cadence_compare.rs does
with Proofline's engine: 500 routines (the rules in turn) started 2024-01-01 over
[2026-01-01, 2027-01-01), and each rule once over the 48 hours around 2026-06-15 12:00 for
rules started the day before vs ten years before. Naive datetimes stand for UTC (the
Proofline side runs a UTC site with no closed days). rrule objects are built once, outside
the timing, as Proofline compiles its cadences once. Prints one JSON object: seconds per
call as [median, min, max] over the samples.
"""

import json
import pathlib
import sys
import time
from datetime import datetime, timedelta

from dateutil.rrule import rrulestr

SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 5
YEAR_ROUTINES = 500
ONE_US = timedelta(microseconds=1)


def rules():
    path = pathlib.Path(__file__).with_name("rules.txt")
    lines = (l.strip() for l in path.read_text().splitlines())
    return [l for l in lines if l and not l.startswith("#")]


def compile_all(rule_set, count, start):
    return [rrulestr(rule_set[i % len(rule_set)], dtstart=start) for i in range(count)]


def expand_all(compiled, start, until):
    # [start, until), as Proofline's due_times
    return sum(len(r.between(start, until - ONE_US, inc=True)) for r in compiled)


def timed(batch, f):
    for _ in range(batch):
        f()
    samples = []
    for _ in range(SAMPLES):
        t = time.perf_counter()
        for _ in range(batch):
            f()
        samples.append((time.perf_counter() - t) / batch)
    samples.sort()
    return [samples[len(samples) // 2], samples[0], samples[-1]]


def batch_for(target, f):
    t = time.perf_counter()
    f()
    once = max(time.perf_counter() - t, 1e-7)
    return max(1, min(100_000, int(target / once)))


def main():
    rule_set = rules()
    out = {"rules": len(rule_set)}
    year = compile_all(rule_set, YEAR_ROUTINES, datetime(2024, 1, 1))
    start, until = datetime(2026, 1, 1), datetime(2027, 1, 1)
    count = expand_all(year, start, until)
    out["year"] = {
        "routines": YEAR_ROUTINES,
        "occurrences": count,
        "seconds": timed(1, lambda: expand_all(year, start, until)),
    }
    now = datetime(2026, 6, 15, 12)
    start, until = now - timedelta(hours=24), now + timedelta(hours=24)
    for name, anchor in [
        ("started_yesterday", datetime(2026, 6, 14)),
        ("started_10_years_ago", datetime(2016, 6, 14)),
    ]:
        compiled = compile_all(rule_set, len(rule_set), anchor)
        count = expand_all(compiled, start, until)
        batch = batch_for(0.1, lambda: expand_all(compiled, start, until))
        out[name] = {
            "occurrences": count,
            "seconds": timed(batch, lambda: expand_all(compiled, start, until)),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
