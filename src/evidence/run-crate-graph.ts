/**
 * The JSON-LD of a replay as an RO-Crate 1.1 conforming to the Provenance Run Crate profile 0.5
 * (https://w3id.org/ro/wfrun/provenance/0.5): the recorded chain is the workflow (workflow.json),
 * each step a HowToStep whose tool is its script (or replay-runner's handler for the step type),
 * each replayed step a CreateAction (and a ControlAction), replay-runner's run an OrganizeAction.
 * Pure: every file is already in the crate and hashed (run-crate.ts).
 */
import type { Manifest, ManifestStep } from "../replay/index.js";

export const RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context";
export const WORKFLOW_RUN_CONTEXT = "https://w3id.org/ro/terms/workflow-run/context";
export const PROFILES = {
  process: { id: "https://w3id.org/ro/wfrun/process/0.5", name: "Process Run Crate", version: "0.5" },
  workflow: { id: "https://w3id.org/ro/wfrun/workflow/0.5", name: "Workflow Run Crate", version: "0.5" },
  provenance: {
    id: "https://w3id.org/ro/wfrun/provenance/0.5",
    name: "Provenance Run Crate",
    version: "0.5",
  },
  workflowRoCrate: {
    id: "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
    name: "Workflow RO-Crate",
    version: "1.0",
  },
} as const;

/** A file of the crate, as it is on disk there. */
export interface CrateFile {
  /** Relative to the crate's root, `/`-separated: the entity's @id. */
  id: string;
  sha256: string;
  size: number;
  name: string;
  encodingFormat?: string | undefined;
  description?: string | undefined;
}

/** What a step's entity says about one artifact: the file holding it, or why there is none. */
export type ArtifactEntry =
  | { kind: "file"; file: CrateFile; artifactId: string }
  | { kind: "absent"; artifactId: string; contentHash: string; why: string };

export interface CrateStepTool {
  /** The script, in the crate; null: the step type's handler is the tool. */
  script: CrateFile | null;
  stepType: string;
  handled: boolean;
}

export interface CrateInputs {
  manifest: Manifest;
  manifestFile: CrateFile;
  schemaFile: CrateFile;
  workflowFile: CrateFile;
  attestationFile: CrateFile | null;
  toolVersion: string;
  license: string | undefined;
  /** By step id. */
  tools: ReadonlyMap<string, CrateStepTool>;
  /** Each artifact's entity, by artifact id (the replayed version where the replay made one). */
  artifacts: ReadonlyMap<string, ArtifactEntry>;
}

type Entity = Record<string, unknown> & { "@id": string };
const ref = (id: string) => ({ "@id": id });

function fileEntity(
  file: CrateFile,
  types: string[] = ["File"],
  extra: Record<string, unknown> = {},
): Entity {
  return {
    "@id": file.id,
    "@type": types.length === 1 ? types[0] : types,
    name: file.name,
    ...(file.description === undefined ? {} : { description: file.description }),
    ...(file.encodingFormat === undefined ? {} : { encodingFormat: file.encodingFormat }),
    contentSize: String(file.size),
    sha256: file.sha256,
    ...extra,
  };
}

const enc = (id: string) => encodeURIComponent(id);

/** Verdicts in words, for people reading the crate. */
export function stepVerdictWords(row: ManifestStep): string {
  switch (row.status) {
    case "verified":
      return "Verified: the frozen input's blob is intact (its bytes hash to the recorded content_hash); nothing was run.";
    case "reproduced":
      return "Reproduced: the replayed output is byte-identical to the recorded one, on inputs matching the recorded input_hash.";
    case "mismatch":
      return `Not reproduced (mismatch): ${row.reason ?? "the output differs"}${row.divergence === "inherited" ? ` (inherited from ${row.inherited_from.length > 0 ? row.inherited_from.join(", ") : "an upstream step"})` : row.divergence === "origin" ? " (this step is where the divergence starts)" : ""}.`;
    case "failed":
      return `Not reproduced (failed to run): ${row.reason ?? "no reason recorded"}.`;
    case "unreplayable":
      return `Not replayed (unreplayable): ${row.reason ?? "this step type cannot run in a sandbox"}; downstream steps used its recorded payload.`;
    case "interrupted":
      return `Not reproduced (interrupted): ${row.reason ?? "the replay was interrupted"}.`;
  }
}

export function replayVerdictWords(m: Manifest): string {
  const s = m.summary;
  if (m.status === "reproduced")
    return `Every step reproduced byte for byte (${s.reproduced} replayed${s.verified > 0 ? `, ${s.verified} frozen input(s) verified` : ""}, of ${s.steps}).`;
  const parts = [
    s.mismatch > 0 ? `${s.mismatch} mismatched` : "",
    s.failed > 0 ? `${s.failed} failed` : "",
    s.unreplayable > 0 ? `${s.unreplayable} unreplayable` : "",
    s.interrupted > 0 ? `${s.interrupted} interrupted` : "",
  ].filter((p) => p !== "");
  const first = m.first_divergence === null ? "" : ` First divergence: step ${m.first_divergence.step_id}.`;
  return `${m.status === "interrupted" ? "Interrupted" : "Not reproduced"}: ${s.reproduced} of ${s.steps} step(s) reproduced${s.verified > 0 ? `, ${s.verified} frozen input(s) verified` : ""}${parts.length > 0 ? `; ${parts.join(", ")}` : ""}.${first}`;
}

function actionStatusOf(row: ManifestStep): string {
  return row.status === "reproduced" || row.status === "verified" || row.status === "mismatch"
    ? "http://schema.org/CompletedActionStatus"
    : "http://schema.org/FailedActionStatus";
}

export function runCrateGraph(input: CrateInputs): { "@context": unknown[]; "@graph": Entity[] } {
  const { manifest: m } = input;
  const graph: Entity[] = [];
  const workflowId = input.workflowFile.id;
  const toolIds = new Map<string, string>();
  const tools: Entity[] = [];
  const images = new Map<string, Entity>();
  const steps: Entity[] = [];
  const createActions: Entity[] = [];
  const controlActions: Entity[] = [];
  const dataFiles = new Map<string, Entity>();
  const absent = new Map<string, Entity>();

  const artifactRef = (artifactId: string): { "@id": string } | null => {
    const entry = input.artifacts.get(artifactId);
    if (entry === undefined) return null;
    if (entry.kind === "file") {
      dataFiles.set(entry.file.id, fileEntity(entry.file, ["File"], { alternateName: artifactId }));
      return ref(entry.file.id);
    }
    const id = `#artifact-${enc(artifactId)}`;
    absent.set(id, {
      "@id": id,
      "@type": "CreativeWork",
      name: artifactId,
      identifier: entry.contentHash,
      description: `Not in this crate: ${entry.why}`,
    });
    return ref(id);
  };

  const toolFor = (row: ManifestStep): string => {
    const tool = input.tools.get(row.step_id);
    if (tool?.script != null) {
      const id = tool.script.id;
      if (!toolIds.has(id)) {
        toolIds.set(id, id);
        tools.push(
          fileEntity(tool.script, ["File", "SoftwareSourceCode", "SoftwareApplication"], {
            programmingLanguage: "Python",
          }),
        );
      }
      return id;
    }
    const stepType = tool?.stepType ?? row.step_type;
    const id = `#handler-${enc(stepType)}`;
    if (!toolIds.has(id)) {
      toolIds.set(id, id);
      tools.push({
        "@id": id,
        "@type": "SoftwareApplication",
        name:
          tool?.handled === false
            ? `${stepType} (a step type replay-runner has no handler for)`
            : `replay-runner's ${stepType} handler`,
        softwareVersion: input.toolVersion,
      });
    }
    return id;
  };

  m.steps.forEach((row, position) => {
    const tool = toolFor(row);
    const stepId = `#step-${enc(row.step_id)}`;
    steps.push({
      "@id": stepId,
      "@type": "HowToStep",
      name: `${row.step_type} step ${row.step_id}`,
      description: row.method,
      position: String(position),
      workExample: ref(tool),
    });
    const runId = `#run-${enc(row.step_id)}`;
    const objects = row.inputs.flatMap((i) => artifactRef(i.artifact_id) ?? []);
    const result = row.output_hash_replayed === null ? null : artifactRef(row.target_artifact_id);
    let imageRef: { "@id": string } | undefined;
    if (row.image !== null) {
      const imageId = `#image-${enc(row.image.id)}`;
      // name:tag; a registry's host:port has its colon before the last slash.
      const colon = row.image.ref.lastIndexOf(":");
      const tagged = colon > row.image.ref.lastIndexOf("/");
      const name = tagged ? row.image.ref.slice(0, colon) : row.image.ref;
      const tag = tagged ? row.image.ref.slice(colon + 1) : undefined;
      images.set(imageId, {
        "@id": imageId,
        "@type": "ContainerImage",
        additionalType: ref("https://w3id.org/ro/terms/workflow-run#DockerImage"),
        name,
        ...(tag === undefined ? {} : { tag }),
        ...(row.image.id.startsWith("sha256:") ? { sha256: row.image.id.slice("sha256:".length) } : {}),
        description: `Docker image ${row.image.ref} (image id ${row.image.id}), built locally by replay-runner from the step's environments row${row.env_hash === null ? "" : ` ${row.env_hash}`}; held by no registry.`,
      });
      imageRef = ref(imageId);
    }
    createActions.push({
      "@id": runId,
      "@type": "CreateAction",
      name: `Replay of step ${row.step_id} (${row.step_type})`,
      description: `${row.method ? `${row.method}. ` : ""}${stepVerdictWords(row)}`,
      instrument: ref(tool),
      ...(imageRef === undefined ? {} : { containerImage: imageRef }),
      object: objects,
      ...(result === null ? {} : { result }),
      ...(row.started_at === null ? {} : { startTime: row.started_at }),
      ...(row.finished_at === null ? {} : { endTime: row.finished_at }),
      actionStatus: ref(actionStatusOf(row)),
      ...(actionStatusOf(row).endsWith("FailedActionStatus") && row.reason !== null
        ? { error: row.reason }
        : {}),
    });
    controlActions.push({
      "@id": `#control-${enc(row.step_id)}`,
      "@type": "ControlAction",
      name: `orchestrate step ${row.step_id}`,
      instrument: ref(stepId),
      object: ref(runId),
      actionStatus: ref(actionStatusOf(row)),
    });
  });

  // The replay as a whole: the workflow's run, and replay-runner's run of it.
  const produced = new Set(m.steps.map((r) => r.target_artifact_id));
  const sources = [...new Set(m.steps.flatMap((r) => r.inputs.map((i) => i.artifact_id)))].filter(
    (id) => !produced.has(id),
  );
  const replayRunId = "#replay";
  const targetRef = artifactRef(m.target.artifact_id);
  const workflowRun: Entity = {
    "@id": replayRunId,
    "@type": "CreateAction",
    name: `Replay ${m.replay_id} of ${m.target.artifact_id}`,
    description: replayVerdictWords(m),
    instrument: ref(workflowId),
    object: sources.flatMap((id) => artifactRef(id) ?? []),
    ...(targetRef === null ? {} : { result: targetRef }),
    startTime: m.started_at,
    endTime: m.finished_at,
    actionStatus: ref(
      m.status === "interrupted"
        ? "http://schema.org/FailedActionStatus"
        : "http://schema.org/CompletedActionStatus",
    ),
  };
  const engine: Entity = {
    "@id": "#replay-runner",
    "@type": "SoftwareApplication",
    name: "replay-runner",
    softwareVersion: input.toolVersion,
    description:
      "Replays recorded processing steps in hermetic containers and checks each result byte for byte.",
  };
  const organize: Entity = {
    "@id": "#replay-runner-run",
    "@type": "OrganizeAction",
    name: `replay-runner ${input.toolVersion}: replay ${m.replay_id}`,
    instrument: ref(engine["@id"]),
    object: controlActions.map((c) => ref(c["@id"])),
    result: ref(replayRunId),
    startTime: m.started_at,
    endTime: m.finished_at,
  };

  const license =
    input.license === undefined
      ? {
          "@id": "#license",
          "@type": "CreativeWork",
          name: "License not recorded",
          description:
            "The registry records no license for these artifacts; ask their owners before reuse. export-crate --license URL names one.",
        }
      : null;
  const manifestEntity = fileEntity(input.manifestFile, ["File"], {
    conformsTo: ref(input.schemaFile.id),
    about: ref(replayRunId),
  });
  const attestation =
    input.attestationFile === null
      ? null
      : fileEntity(input.attestationFile, ["File"], { about: ref(input.manifestFile.id) });
  const workflow = fileEntity(
    input.workflowFile,
    ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
    {
      programmingLanguage: ref("#replay-runner-chain"),
      hasPart: tools.map((t) => ref(t["@id"])),
      step: steps.map((s) => ref(s["@id"])),
    },
  );
  const files = [
    workflow,
    manifestEntity,
    fileEntity(input.schemaFile),
    ...(attestation === null ? [] : [attestation]),
    ...tools.filter((t) => t["@id"] !== workflowId && !t["@id"].startsWith("#")),
    ...dataFiles.values(),
  ];
  graph.push(
    {
      "@id": "ro-crate-metadata.json",
      "@type": "CreativeWork",
      about: ref("./"),
      conformsTo: [ref("https://w3id.org/ro/crate/1.1"), ref(PROFILES.workflowRoCrate.id)],
    },
    {
      "@id": "./",
      "@type": "Dataset",
      name: `Replay ${m.replay_id} of ${m.target.artifact_id}${m.target.title === null ? "" : ` (${m.target.title})`}`,
      description: `replay-runner re-executed the recorded chain behind ${m.target.artifact_id} and compared each result byte for byte with the registry. ${replayVerdictWords(m)}`,
      datePublished: m.finished_at,
      license: ref(input.license ?? "#license"),
      conformsTo: [PROFILES.process, PROFILES.workflow, PROFILES.provenance, PROFILES.workflowRoCrate].map(
        (p) => ref(p.id),
      ),
      mainEntity: ref(workflowId),
      hasPart: files.map((f) => ref(f["@id"])),
      mentions: [replayRunId, ...createActions.map((a) => a["@id"])].map(ref),
    },
    ...[PROFILES.process, PROFILES.workflow, PROFILES.provenance, PROFILES.workflowRoCrate].map((p) => ({
      "@id": p.id,
      "@type": "CreativeWork",
      name: p.name,
      version: p.version,
    })),
    ...(license === null ? [] : [license]),
    {
      "@id": "#replay-runner-chain",
      "@type": "ComputerLanguage",
      name: "replay-runner provenance chain",
      alternateName: "lineage --json",
      description:
        "The registry's processing steps behind the target, as `replay-runner lineage --json` prints them (src/chain/chain-json.ts).",
      version: "1",
    },
    ...files,
    ...tools.filter((t) => t["@id"].startsWith("#")),
    ...steps,
    ...images.values(),
    ...absent.values(),
    engine,
    organize,
    workflowRun,
    ...createActions,
    ...controlActions,
  );
  return { "@context": [RO_CRATE_CONTEXT, WORKFLOW_RUN_CONTEXT], "@graph": graph };
}
