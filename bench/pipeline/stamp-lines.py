# Benchmark 10: copies /in/source, but stamps two of its lines with the wall clock, as a step that
# records when it ran would: every run gives other bytes, two lines apart from the record.
import time

with open("/in/source", "rb") as src, open("/out/output", "wb") as out:
    for number, line in enumerate(src):
        if number in (1000, 2_000_000):
            line = b"%d,stamped at %d\n" % (number, time.time_ns())
        out.write(line)
