# One pipeline step as a CWL CommandLineTool: python3 <script> <input> output, in the same
# image as replay-runner's steps (local, never pulled), networking off (CWL's default).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement:
    dockerPull: replay-base:bookworm
baseCommand: python3
inputs:
  script:
    type: File
    inputBinding: { position: 1 }
  source:
    type: File
    inputBinding: { position: 2 }
arguments:
  - { position: 3, valueFrom: output }
outputs:
  output:
    type: File
    outputBinding: { glob: output }
