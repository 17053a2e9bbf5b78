/** The one stylesheet (served at /static/app.css): plain CSS, no build step. */
export const APP_CSS = `
:root {
  --bg: #f5f6f8; --card: #ffffff; --ink: #1d2430; --muted: #6b7483; --line: #e3e6eb;
  --ok: #1f7a3d; --ok-bg: #e3f4e8; --bad: #b42318; --bad-bg: #fde8e6; --warn: #8a5a00; --warn-bg: #fdf1d6;
  --info: #1d4ed8; --info-bg: #e4ecfd; --accent: #2f5bd3;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.45;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.86em; }
header.top { background: #1d2430; color: #fff; padding: 12px 28px; display: flex; gap: 16px; align-items: baseline; }
header.top .brand { color: #fff; font-weight: 700; letter-spacing: 0.02em; }
header.top .tagline { color: #aab3c2; font-size: 0.9em; }
main { max-width: 1320px; margin: 24px auto; padding: 0 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin-bottom: 18px; box-shadow: 0 1px 2px rgba(16,24,40,0.04); }
.card h1 { margin: 0 0 10px; font-size: 1.55em; }
.card h2 { margin: 0 0 12px; font-size: 1.15em; }
.card h3 { margin: 16px 0 6px; font-size: 1em; }
.eyebrow { margin: 0 0 4px; color: var(--muted); text-transform: uppercase; font-size: 0.75em; letter-spacing: 0.08em; }
.eyebrow code { text-transform: none; letter-spacing: 0; font-size: 1.1em; }
.muted { color: var(--muted); }
.small { font-size: 0.8em; font-weight: normal; }
.lead { font-size: 1.1em; margin: 4px 0 12px; font-weight: 600; }
.ok-text { color: var(--ok); } .bad-text { color: var(--bad); } .warn-text { color: var(--warn); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 0.8em; font-weight: 600; white-space: nowrap; vertical-align: middle; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.info { color: var(--info); background: var(--info-bg); }
.badge.muted { color: var(--muted); background: #eef0f3; }
.badge.type { color: #3b3f8f; background: #ebeafd; }
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline li { display: flex; flex-wrap: wrap; gap: 0.5em; align-items: baseline; padding: 4px 0; border-bottom: 1px solid #eef0f3; }
h1 .badge { font-size: 0.55em; }
.hash { white-space: nowrap; }
.hash code { cursor: help; }
button.copy { border: 1px solid var(--line); background: #fff; border-radius: 4px; padding: 0 5px; margin-left: 5px; font: 600 0.68em system-ui, sans-serif; text-transform: uppercase; letter-spacing: 0.04em; cursor: pointer; color: var(--muted); vertical-align: 1px; }
button.copy:hover { color: var(--ink); border-color: #c4c9d2; }
button.copy.copied { color: var(--ok); border-color: var(--ok); }
table.grid { width: 100%; border-collapse: collapse; }
table.grid th, table.grid td { text-align: left; padding: 8px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.grid th { font-size: 0.78em; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; background: #fafbfc; }
table.grid td.num { text-align: right; white-space: nowrap; }
table.grid td.reason { color: #3a4150; min-width: 220px; max-width: 420px; overflow-wrap: anywhere; }
table.manifest { font-size: 0.92em; }
table.manifest td:first-child { max-width: 180px; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
.divergence p, .error-card p { overflow-wrap: anywhere; }
table.manifest tr.first-divergence .badge.bad { background: #fff; box-shadow: inset 0 0 0 1px #f3b4ad; }
table.grid .method { color: var(--muted); font-size: 0.85em; margin-top: 2px; }
table.manifest tr.first-divergence td { background: var(--bad-bg); }
table.manifest tr.first-divergence td:first-child { box-shadow: inset 4px 0 0 var(--bad); }
tr.diff-row td { background: #fbfbfd; padding-top: 0; }
details summary { cursor: pointer; color: var(--muted); padding: 6px 0; }
pre.diff { margin: 0; padding: 10px 12px; background: #0f1520; color: #d6dbe4; border-radius: 6px; overflow-x: auto; max-height: 420px; line-height: 1.35; }
iframe.diff-report { display: block; width: 100%; height: 480px; margin-top: 6px; border: 1px solid #d9dde5; border-radius: 6px; background: #fff; resize: vertical; }
.diff-explanation { font-weight: 600; }
pre.diff .add { color: #7ee2a8; } pre.diff .del { color: #ff9b91; } pre.diff .hunk { color: #8fb3ff; }
ul.warnings { margin: 6px 0 0; padding-left: 18px; color: var(--warn); font-size: 0.85em; }
.divergence { border-left: 4px solid var(--bad); }
.error-card { border-left: 4px solid var(--bad); }
.hint { color: var(--muted); }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 22px; }
ul.tree { padding-left: 0; }
ul.tree ul { border-left: 1px dashed #c9ced6; margin-left: 8px; }
ul.tree li { margin: 6px 0; }
ul.tree .node { padding: 6px 10px; border: 1px solid var(--line); border-radius: 8px; background: #fcfcfd; display: inline-block; min-width: 420px; }
ul.tree .artifact-id { font-weight: 600; }
ul.tree .artifact-title { font-weight: 600; margin-right: 6px; }
ul.tree .artifact-title + .artifact-id { font-weight: normal; font-family: ui-monospace, monospace; font-size: 0.86em; }
a.download { font-size: 0.8em; font-weight: 600; margin-left: 4px; white-space: nowrap; }
table.manifest .target { font-size: 0.85em; margin-top: 2px; }
td.reason .hash { white-space: nowrap; }
ul.tree .input-name { font-family: ui-monospace, monospace; font-size: 0.8em; background: #eef0f3; border-radius: 4px; padding: 0 6px; margin-right: 8px; color: var(--muted); }
.step-line { margin-top: 4px; font-size: 0.9em; }
.step-line .arrow { color: var(--muted); }
.step-line .method { color: #3a4150; margin: 0 4px; }
form.rerun { display: grid; gap: 12px; max-width: 640px; }
form .field label { display: block; font-weight: 600; margin-bottom: 4px; }
form .field.checks label { font-weight: normal; display: block; margin: 2px 0; }
select, input[type=password], input[type=text], input:not([type]) { font: inherit; padding: 6px 8px; border: 1px solid #c4c9d2; border-radius: 6px; min-width: 320px; background: #fff; }
.actions { display: flex; gap: 12px; align-items: center; margin-top: 6px; }
button.primary, button.danger { font: inherit; font-weight: 600; border: 0; border-radius: 6px; padding: 8px 18px; cursor: pointer; color: #fff; background: var(--accent); }
button.danger { background: var(--bad); }
button:disabled { opacity: 0.6; cursor: progress; }
.message { color: var(--muted); }
.message.error { color: var(--bad); }
form.open { display: flex; gap: 10px; align-items: center; }
@media (max-width: 800px) { ul.tree .node { min-width: 0; } table.grid td.reason { max-width: none; } }
`;
