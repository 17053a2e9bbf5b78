# Step 2: aggregate the normalised readings per station to JSON (count, mean, min, max).
# Paths default to replay-runner's contract; the peers' wrappers (CWL) pass their own.
import csv
import json
import sys

SRC, DST = sys.argv[1:3] if len(sys.argv) == 3 else ("/in/source", "/out/output")

stats = {}
with open(SRC, newline="") as src:
    for row in csv.DictReader(src):
        t = float(row["temp_c"])
        s = stats.setdefault(row["station"], [0, 0.0, t, t])
        s[0] += 1
        s[1] += t
        s[2] = min(s[2], t)
        s[3] = max(s[3], t)
result = {k: {"n": n, "mean": round(total / n, 2), "min": lo, "max": hi} for k, (n, total, lo, hi) in stats.items()}
with open(DST, "w") as out:
    json.dump(result, out, sort_keys=True, indent=1)
