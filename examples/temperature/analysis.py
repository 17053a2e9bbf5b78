"""analysis: per-station statistics of the clean readings, joined with station metadata.

Named inputs: /in/readings.csv (the clean table) and /in/stations.csv. The statistics come
from `tempstats`, a pinned pip package (see requirements.lock): the environment is part of
the record. The "as_of" date comes from SOURCE_DATE_EPOCH, the step's recorded start time,
never from the clock, so a replay writes the very same bytes.
"""
import csv
import datetime
import json
import os

import tempstats

stations = {r["station"]: r for r in csv.DictReader(open("/in/stations.csv", newline=""))}
temps = {}
for row in csv.DictReader(open("/in/readings.csv", newline="")):
    temps.setdefault(row["station"], []).append(float(row["temp_c"]))

as_of = datetime.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), tz=datetime.timezone.utc)
result = {
    "as_of": as_of.date().isoformat(),
    "tempstats_version": tempstats.__version__,
    "stations": [
        {
            "station": code,
            "name": stations[code]["name"],
            "elevation_m": int(stations[code]["elevation_m"]),
            "n": len(values),
            "mean_c": round(tempstats.mean(values), 2),
            "median_c": round(tempstats.median(values), 2),
            "stdev_c": round(tempstats.stdev(values), 2),
            "min_c": min(values),
            "max_c": max(values),
        }
        for code, values in sorted(temps.items())
    ],
}
with open("/out/output", "w") as out:
    json.dump(result, out, indent=2, sort_keys=True)
    out.write("\n")
