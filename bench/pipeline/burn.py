# About one second of CPU (a fixed amount of work, so the result is deterministic): the
# iterations come from params.json; the output is the seed, the work's result and the input size.
import json
import os

params = json.load(open("/in/params.json"))
x = params["seed"]
for _ in range(params["iterations"]):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
open("/out/output", "w").write(f"{params['seed']} {x} {os.path.getsize('/in/source')}\n")
