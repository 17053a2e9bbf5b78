# Writes its input with the wall clock's time appended: every replay on the real clock gives
# other bytes, so the step is an origin mismatch for `rerun --triage` (benchmark 7).
import time

data = open("/in/source", "rb").read()
open("/out/output", "wb").write(data + str(time.time_ns()).encode() + b"\n")
