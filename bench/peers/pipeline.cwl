# Benchmark 2: the 3-step pipeline as a CWL workflow (cwltool --disable-pull).
cwlVersion: v1.2
class: Workflow
inputs:
  readings: File
  normalise: File
  aggregate: File
  render: File
outputs:
  figure:
    type: File
    outputSource: render_step/output
steps:
  normalise_step:
    run: step.cwl
    in: { script: normalise, source: readings }
    out: [output]
  aggregate_step:
    run: step.cwl
    in: { script: aggregate, source: normalise_step/output }
    out: [output]
  render_step:
    run: step.cwl
    in: { script: render, source: aggregate_step/output }
    out: [output]
