/**
 * Validates an exported crate without replay-runner's code and without the network:
 *  1. the `jsonld` package (a JSON-LD processor we did not write) expands and flattens
 *     ro-crate-metadata.json in safe mode, with the RO-Crate 1.1 and workflow-run contexts served
 *     from schemas/jsonld/ (copies of the published files); any other URL is refused, and any term
 *     the contexts do not define, or any value they would drop, is an error;
 *  2. on the expanded graph (full IRIs, so what the JSON-LD means, not how it is spelled), the
 *     MUSTs of RO-Crate 1.1 and of the Provenance Run Crate profile 0.5 (with the Process Run Crate,
 *     Workflow Run Crate and Workflow RO-Crate requirements it inherits) are checked here, and
 *     every file entity's sha256 and contentSize against the bytes in the crate.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import jsonld from "jsonld";

const ROOT = path.resolve(import.meta.dirname, "../../schemas/jsonld");
const CONTEXT_FILES: Record<string, string> = {
  "https://w3id.org/ro/crate/1.1/context": path.join(ROOT, "ro-crate-1.1-context.jsonld"),
  "https://w3id.org/ro/terms/workflow-run/context": path.join(ROOT, "workflow-run-context.jsonld"),
};

const S = "http://schema.org/";
const WFRUN = "https://w3id.org/ro/terms/workflow-run#";
const BIOSCHEMAS_WORKFLOW = "https://bioschemas.org/ComputationalWorkflow";
const CONFORMS_TO = "http://purl.org/dc/terms/conformsTo";
const PROFILES = [
  "https://w3id.org/ro/wfrun/process/0.5",
  "https://w3id.org/ro/wfrun/workflow/0.5",
  "https://w3id.org/ro/wfrun/provenance/0.5",
  "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
];

/** The URLs the processor asked for: only the two contexts may appear. */
export const requestedUrls: string[] = [];

async function documentLoader(
  url: string,
): Promise<{ contextUrl: null; documentUrl: string; document: unknown }> {
  requestedUrls.push(url);
  const file = CONTEXT_FILES[url];
  if (file === undefined) throw new Error(`offline validator: refused to fetch ${url}`);
  return {
    contextUrl: null,
    documentUrl: url,
    document: JSON.parse(await readFile(file, "utf8")) as unknown,
  };
}

type Node = Record<string, unknown> & { "@id": string; "@type"?: string[] };

export interface CrateNode {
  id: string;
  types: string[];
  ids(property: string): string[];
  values(property: string): string[];
}

export interface CrateReport {
  problems: string[];
  /** By @id relative to the crate (`./`, `#run-s-clean`, `artifacts/raw`), IRIs left as they are. */
  nodes: Map<string, CrateNode>;
}

function toNode(raw: Node, base: string): CrateNode {
  const relative = (iri: string) => (iri.startsWith(base) ? iri.slice(base.length) || "./" : iri);
  const entries = (property: string) => (raw[property] as Record<string, unknown>[] | undefined) ?? [];
  return {
    id: relative(raw["@id"]),
    types: raw["@type"] ?? [],
    ids: (property) =>
      entries(property).flatMap((e) => (typeof e["@id"] === "string" ? [relative(e["@id"])] : [])),
    values: (property) =>
      entries(property).flatMap((e) => {
        const v = e["@value"];
        return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? [String(v)] : [];
      }),
  };
}

/** RO-Crate's JSON-LD is flattened: entity values are scalars or {"@id"} references, never nested entities. */
function nestingProblems(doc: { "@graph"?: unknown }): string[] {
  const problems: string[] = [];
  const graph = Array.isArray(doc["@graph"]) ? (doc["@graph"] as Record<string, unknown>[]) : [];
  for (const entity of graph) {
    for (const [key, value] of Object.entries(entity)) {
      for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
        if (v !== null && typeof v === "object" && Object.keys(v).some((k) => k !== "@id"))
          problems.push(`${String(entity["@id"])}: ${key} nests an entity (RO-Crate JSON-LD must be flat)`);
      }
    }
  }
  return problems;
}

export async function validateRunCrate(dir: string, doc?: unknown): Promise<CrateReport> {
  const metadata =
    doc ?? (JSON.parse(await readFile(path.join(dir, "ro-crate-metadata.json"), "utf8")) as unknown);
  const problems: string[] = nestingProblems(metadata as { "@graph"?: unknown });
  // RO-Crate 1.1, appendix "Relative URI paths": resolve the crate's relative ids against an arcp base.
  const base = `arcp://uuid,${randomUUID()}/`;
  const options = { documentLoader, base, safe: true } as unknown as jsonld.Options.Expand;
  let flat: Node[];
  try {
    await jsonld.expand(metadata as jsonld.JsonLdDocument, options);
    // No context: flattened and left expanded (full IRIs). @types/jsonld does not allow null here.
    const flatten = jsonld.flatten as unknown as (
      input: unknown,
      ctx: null,
      opts: unknown,
    ) => Promise<unknown>;
    const flattened = (await flatten(metadata, null, options)) as Node[] | { "@graph": Node[] };
    flat = Array.isArray(flattened) ? flattened : flattened["@graph"];
  } catch (error) {
    const e = error as Error & { details?: { event?: { message?: string; details?: unknown } } };
    return {
      problems: [
        ...problems,
        `JSON-LD (jsonld, safe mode): ${e.message}${e.details?.event?.message ? `: ${e.details.event.message} ${JSON.stringify(e.details.event.details)}` : ""}`,
      ],
      nodes: new Map(),
    };
  }
  const nodes = new Map(flat.map((n) => [toNode(n, base).id, toNode(n, base)]));
  const must = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  const get = (id: string) => nodes.get(id);
  const typed = (id: string, type: string) => get(id)?.types.includes(type) === true;

  // RO-Crate 1.1: the metadata descriptor and the root data entity.
  const descriptor = get("ro-crate-metadata.json");
  must(
    descriptor !== undefined && descriptor.types.includes(`${S}CreativeWork`),
    "ro-crate-metadata.json: MUST be a CreativeWork",
  );
  must(descriptor?.ids(`${S}about`).includes("./") === true, "ro-crate-metadata.json: about MUST be ./");
  must(
    descriptor?.ids(CONFORMS_TO).includes("https://w3id.org/ro/crate/1.1") === true,
    "ro-crate-metadata.json: conformsTo MUST name RO-Crate 1.1",
  );
  const root = get("./");
  must(root !== undefined && root.types.includes(`${S}Dataset`), "./: MUST be a Dataset");
  for (const p of ["name", "description", "datePublished"])
    must((root?.values(`${S}${p}`).length ?? 0) > 0, `./: ${p} is required`);
  must(
    !Number.isNaN(Date.parse(root?.values(`${S}datePublished`)[0] ?? "")),
    "./: datePublished MUST be ISO 8601",
  );
  must((root?.ids(`${S}license`).length ?? 0) > 0, "./: license is required");
  // The profiles.
  for (const profile of PROFILES)
    must(root?.ids(CONFORMS_TO).includes(profile) === true, `./: conformsTo MUST name ${profile}`);

  // Every data entity of the root is in the crate, with the bytes its sha256 and contentSize say.
  for (const id of root?.ids(`${S}hasPart`) ?? []) {
    const node = get(id);
    must(node !== undefined, `./ hasPart ${id}: no such entity`);
    if (node === undefined || id.includes(":")) continue;
    let bytes: Buffer | undefined;
    try {
      bytes = await readFile(path.join(dir, ...decodeURIComponent(id).split("/")));
    } catch {
      problems.push(`${id}: a data entity of the crate, but no such file`);
      continue;
    }
    const sha = node.values(`${WFRUN}sha256`)[0];
    must(
      sha === createHash("sha256").update(bytes).digest("hex"),
      `${id}: sha256 ${sha ?? "(none)"} is not its bytes' SHA-256`,
    );
    must(node.values(`${S}contentSize`)[0] === String(bytes.length), `${id}: contentSize is not its size`);
  }

  // Workflow RO-Crate / Workflow Run Crate: the main workflow.
  const workflowId = root?.ids(`${S}mainEntity`)[0];
  const workflow = workflowId === undefined ? undefined : get(workflowId);
  must(workflow !== undefined, "./: mainEntity MUST name the main workflow");
  for (const t of [`${S}MediaObject`, `${S}SoftwareSourceCode`, BIOSCHEMAS_WORKFLOW, `${S}HowTo`])
    must(workflow?.types.includes(t) === true, `main workflow: @type MUST include ${t}`);
  must(
    root?.ids(`${S}hasPart`).includes(workflowId ?? "") === true,
    "main workflow: MUST be a data entity of the root",
  );
  must(
    (workflow?.ids(`${S}programmingLanguage`).length ?? 0) > 0,
    "main workflow: programmingLanguage is required",
  );
  const tools = new Set(workflow?.ids(`${S}hasPart`) ?? []);
  for (const tool of tools) {
    must(
      [`${S}SoftwareApplication`, `${S}SoftwareSourceCode`, BIOSCHEMAS_WORKFLOW].some((t) => typed(tool, t)),
      `tool ${tool}: @type MUST include SoftwareApplication, SoftwareSourceCode or ComputationalWorkflow`,
    );
  }
  const steps = workflow?.ids(`${S}step`) ?? [];
  for (const step of steps) {
    must(typed(step, `${S}HowToStep`), `${step}: MUST be a HowToStep`);
    const example = get(step)?.ids(`${S}workExample`) ?? [];
    must(
      example.length === 1 && tools.has(example[0]!),
      `${step}: workExample MUST be a tool of the workflow`,
    );
  }

  // Process Run Crate: every action has an instrument; tool runs use the workflow's tools.
  const all = [...nodes.values()];
  const creates = all.filter((n) => n.types.includes(`${S}CreateAction`));
  for (const action of creates) {
    const instrument = action.ids(`${S}instrument`);
    must(instrument.length > 0, `${action.id}: CreateAction MUST have an instrument`);
    must(
      instrument.every((i) => i === workflowId || tools.has(i)),
      `${action.id}: instrument is neither the workflow nor one of its tools`,
    );
    must(
      root?.ids(`${S}mentions`).includes(action.id) === true,
      `${action.id}: SHOULD be in the root's mentions`,
    );
    for (const image of action.ids(`${WFRUN}containerImage`))
      must(
        typed(image, `${WFRUN}ContainerImage`),
        `${action.id}: containerImage ${image} is not a ContainerImage`,
      );
  }
  const workflowRuns = creates.filter((a) => a.ids(`${S}instrument`).includes(workflowId ?? ""));
  must(
    workflowRuns.length === 1,
    "a CreateAction MUST describe the workflow's run (instrument: the main workflow)",
  );

  // Provenance Run Crate: ControlActions and the OrganizeAction.
  const controls = all.filter((n) => n.types.includes(`${S}ControlAction`));
  for (const control of controls) {
    const instrument = control.ids(`${S}instrument`);
    must(
      instrument.length === 1 && steps.includes(instrument[0]!),
      `${control.id}: instrument MUST be a HowToStep of the workflow`,
    );
    const object = control.ids(`${S}object`);
    must(
      object.length > 0 && object.every((o) => typed(o, `${S}CreateAction`)),
      `${control.id}: object MUST be CreateActions`,
    );
  }
  for (const organize of all.filter((n) => n.types.includes(`${S}OrganizeAction`))) {
    must(organize.ids(`${S}instrument`).length === 1, `${organize.id}: instrument MUST name the engine`);
    must(
      organize.ids(`${S}object`).every((o) => typed(o, `${S}ControlAction`)) &&
        organize.ids(`${S}object`).length === controls.length,
      `${organize.id}: object MUST be the ControlActions`,
    );
    must(
      organize.ids(`${S}result`)[0] === workflowRuns[0]?.id,
      `${organize.id}: result MUST be the workflow's run`,
    );
  }
  // HowToStep positions: a step that consumes another's result comes after it.
  const runOfStep = new Map(controls.map((c) => [c.ids(`${S}instrument`)[0]!, c.ids(`${S}object`)[0]!]));
  const position = (step: string) => Number(get(step)?.values(`${S}position`)[0]);
  for (const s1 of steps) {
    for (const s2 of steps) {
      const results = get(runOfStep.get(s1) ?? "")?.ids(`${S}result`) ?? [];
      const objects = get(runOfStep.get(s2) ?? "")?.ids(`${S}object`) ?? [];
      if (s1 !== s2 && results.some((r) => objects.includes(r)))
        must(position(s2) > position(s1), `${s2} consumes ${s1}'s result: its position MUST be greater`);
    }
  }
  // Every reference inside the crate names an entity of the graph.
  for (const node of all) {
    for (const [property, values] of Object.entries(flat.find((n) => toNode(n, base).id === node.id) ?? {})) {
      if (property.startsWith("@") || !Array.isArray(values)) continue;
      for (const v of values as Record<string, unknown>[]) {
        const id =
          typeof v["@id"] === "string"
            ? v["@id"].startsWith(base)
              ? v["@id"].slice(base.length) || "./"
              : v["@id"]
            : undefined;
        if (id !== undefined && !id.startsWith("http") && !nodes.has(id))
          problems.push(`${node.id}: ${property} names ${id}, which is not in the crate`);
      }
    }
  }
  return { problems, nodes };
}
