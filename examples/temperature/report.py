"""transform: a one-page text report of the statistics.

Deliberately NOT reproducible: it stamps the wall-clock time of the run (datetime.now())
instead of SOURCE_DATE_EPOCH, so every run writes different bytes. The demo replays it to
show what a mismatch looks like. The fix is one line: use SOURCE_DATE_EPOCH, as analysis.py does.
"""
import datetime
import json

data = json.load(open("/in/source"))
lines = [f"Temperature report, generated {datetime.datetime.now(datetime.timezone.utc).isoformat()}", ""]
for s in data["stations"]:
    lines.append(f"{s['name']:<20} n={s['n']:>2}  mean {s['mean_c']:6.2f} °C  range {s['min_c']:.1f} .. {s['max_c']:.1f}")
with open("/out/output", "w", encoding="utf-8") as out:
    out.write("\n".join(lines) + "\n")
