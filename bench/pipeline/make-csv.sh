#!/usr/bin/env bash
# A deterministic ~1 MB CSV of readings: make-csv.sh <file>
set -euo pipefail
awk 'BEGIN {
  srand(7); print "station,day,temp_f";
  for (i = 0; i < 40000; i++) printf " Station-%02d ,2024-%02d-%02d,%.1f\n", i % 37, i % 12 + 1, i % 28 + 1, 20 + rand() * 60
}' >"$1"
