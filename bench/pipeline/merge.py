# Merges the named inputs in the order params.json gives.
import json

order = json.load(open("/in/params.json"))["order"]
with open("/out/output", "w") as out:
    for name in order:
        out.write(f"{name} " + open("/in/" + name).read())
