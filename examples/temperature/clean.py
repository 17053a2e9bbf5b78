"""transform: readings.csv as it came in -> a clean table.

Normalises station codes (" hel " -> "HEL"), drops rows whose temperature is missing, not a
number, or outside the plausible range given in /in/params.json, and sorts by station and
date so the output does not depend on the order rows arrived in.
"""
import csv
import json

params = json.load(open("/in/params.json"))
low, high = params["min_c"], params["max_c"]

kept, dropped = [], 0
with open("/in/source", newline="") as f:
    for row in csv.DictReader(f):
        station = row["station"].strip().upper()
        try:
            temp = float(row["temp_c"])
        except ValueError:
            dropped += 1
            continue
        if not low <= temp <= high:
            dropped += 1
            continue
        kept.append((station, row["date"].strip(), temp))

kept.sort()
with open("/out/output", "w", newline="") as out:
    out.write("date,station,temp_c\n")
    for station, date, temp in kept:
        out.write(f"{date},{station},{temp:.1f}\n")
print(f"kept {len(kept)} rows, dropped {dropped}")
