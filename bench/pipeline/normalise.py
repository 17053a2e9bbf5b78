# Step 1: normalise a CSV of readings (station,day,temp_f): trim, lower-case station names,
# Fahrenheit to Celsius with one decimal, drop unparsable rows.
# Paths default to replay-runner's contract; the peers' wrappers (CWL) pass their own.
import csv
import sys

SRC, DST = sys.argv[1:3] if len(sys.argv) == 3 else ("/in/source", "/out/output")

with open(SRC, newline="") as src, open(DST, "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["station", "day", "temp_c"])
    for row in csv.DictReader(src):
        try:
            temp_c = (float(row["temp_f"]) - 32) * 5 / 9
        except ValueError:
            continue
        writer.writerow([row["station"].strip().lower(), row["day"].strip(), f"{temp_c:.1f}"])
