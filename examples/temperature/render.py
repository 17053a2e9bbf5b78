"""render: an SVG bar chart of the mean temperature per station, drawn with plain strings.

Numbers are formatted explicitly (fixed decimals), so the SVG is the same bytes on every run.
"""
import json

params = json.load(open("/in/params.json"))
data = json.load(open("/in/source"))["stations"]

width, bar_h, gap, left, top = params["width"], 28, 12, 190, 40
height = top + len(data) * (bar_h + gap) + 30
lo = min(0.0, min(s["mean_c"] for s in data))
hi = max(0.0, max(s["mean_c"] for s in data))
scale = (width - left - 60) / (hi - lo)
zero_x = left + (0 - lo) * scale


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


parts = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
    f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
    f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    f'<text x="{width / 2:.1f}" y="24" text-anchor="middle" font-size="16">{esc(params["title"])}</text>',
]
for i, s in enumerate(data):
    y = top + i * (bar_h + gap)
    x0, x1 = sorted((zero_x, zero_x + s["mean_c"] * scale))
    colour = "#d6604d" if s["mean_c"] >= 0 else "#4393c3"
    parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">{esc(s["name"])}</text>')
    parts.append(f'<rect x="{x0:.2f}" y="{y}" width="{x1 - x0:.2f}" height="{bar_h}" fill="{colour}"/>')
    parts.append(f'<text x="{x1 + 6:.2f}" y="{y + bar_h * 0.7:.1f}">{s["mean_c"]:.2f} °C</text>')
parts.append(f'<line x1="{zero_x:.2f}" y1="{top - 6}" x2="{zero_x:.2f}" y2="{height - 24}" stroke="#333333"/>')
parts.append("</svg>\n")
with open("/out/output", "w", encoding="utf-8") as out:
    out.write("\n".join(parts))
