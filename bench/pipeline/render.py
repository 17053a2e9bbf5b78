# Step 3: render the per-station means as a small SVG bar chart.
# Paths default to replay-runner's contract; the peers' wrappers (CWL) pass their own.
import json
import sys

SRC, DST = sys.argv[1:3] if len(sys.argv) == 3 else ("/in/source", "/out/output")

stats = json.load(open(SRC))
bars = []
for i, (name, s) in enumerate(sorted(stats.items())):
    width = max(1, round((s["mean"] + 40) * 4))
    bars.append(f'<rect x="120" y="{i * 14}" width="{width}" height="12"/><text x="0" y="{i * 14 + 10}">{name}</text>')
with open(DST, "w") as out:
    out.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{len(bars) * 14}">{"".join(bars)}</svg>\n')
