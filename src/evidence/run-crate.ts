/**
 * `replay-runner export-crate`: a replay's output folder as a Provenance Run Crate. The crate
 * holds the manifest (and its schema), the attestation when the replay was signed, the recorded
 * chain (workflow.json), each step's script, and the bytes of every artifact the replay consumed
 * or produced; each file's entity carries the SHA-256 and size of the bytes in the crate, hashed
 * after copying. Written to `<dest>.partial-*` and renamed, so a crate is complete or absent.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { copyFile, constants, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { BlobStore } from "../blobs/index.js";
import { chainToJson, walkChain, type ChainStep } from "../chain/index.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { parseContainerParameters, handlerFor } from "../handlers/index.js";
import { hashFile, isContentHash } from "../hashing/index.js";
import { safeFileName, type Manifest } from "../replay/index.js";
import { MANIFEST_SCHEMA_FILE, manifestProblems } from "./manifest-schema.js";
import { ATTESTATION_FILE } from "./replay-signer.js";
import { runCrateGraph, type ArtifactEntry, type CrateFile, type CrateStepTool } from "./run-crate-graph.js";

export interface ExportRequest {
  /** The replay's output folder (manifest.json, artifacts/, attestation.intoto.json). */
  outDir: string;
  db: SqlQueryable;
  blobRoot: string;
  toolVersion: string;
  /** The crate's folder; undefined with `zip`: built in a temporary folder, then zipped. */
  dest?: string | undefined;
  zip?: string | undefined;
  /** A license URL for the root; none recorded otherwise (the root says so). */
  license?: string | undefined;
}

export interface ExportResult {
  dir: string | null;
  zip: string | null;
  actions: number;
  files: number;
}

function usage(message: string, hint: string, details: Record<string, unknown> = {}): ReplayError {
  return new ReplayError("USAGE", message, { hint, details });
}

export async function readManifestOf(outDir: string): Promise<Manifest> {
  const file = path.join(outDir, "manifest.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw usage(
      `Cannot read the manifest ${file}: ${messageOf(error)}`,
      "Give a replay id or a replay's output folder.",
      {
        path: file,
      },
    );
  }
  const problems = await manifestProblems(raw);
  if (problems.length > 0) {
    throw usage(
      `${file} is not a manifest this version can export (schemas/manifest.schema.json):\n  ${problems.slice(0, 10).join("\n  ")}`,
      "Export it with the replay-runner version that wrote it, or replay again.",
      { path: file, problems },
    );
  }
  return raw as Manifest;
}

/** Copies `from` to `<root>/<id>` and describes what is there now (hashed after the copy). */
async function addFile(
  root: string,
  id: string,
  from: string,
  extra: Omit<CrateFile, "id" | "sha256" | "size">,
): Promise<CrateFile> {
  const dest = path.join(root, ...id.split("/"));
  await mkdir(path.dirname(dest), { recursive: true });
  await copyFile(from, dest, constants.COPYFILE_FICLONE);
  const hashed = await hashFile(dest);
  return { id, sha256: hashed.contentHash.slice("sha256:".length), size: hashed.size, ...extra };
}

async function writeFileEntry(
  root: string,
  id: string,
  text: string,
  extra: Omit<CrateFile, "id" | "sha256" | "size">,
): Promise<CrateFile> {
  const dest = path.join(root, id);
  await writeFile(dest, text);
  const hashed = await hashFile(dest);
  return { id, sha256: hashed.contentHash.slice("sha256:".length), size: hashed.size, ...extra };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** A payload the manifest names, only when it lies inside the output folder. */
function payloadPath(outDir: string, relative: string | null): string | null {
  if (relative === null || path.isAbsolute(relative) || relative.includes("\0")) return null;
  const abs = path.resolve(outDir, relative);
  const rel = path.relative(outDir, abs);
  return rel === "" || rel.startsWith("..") ? null : abs;
}

async function buildCrate(
  root: string,
  request: ExportRequest,
  manifest: Manifest,
): Promise<{ actions: number; files: number }> {
  const outDir = path.resolve(request.outDir);
  const blobs = new BlobStore(request.blobRoot);
  const chain = await walkChain(request.db, manifest.target.artifact_id);
  const byStep = new Map<string, ChainStep>(chain.steps.map((cs) => [cs.step.id, cs]));

  const manifestFile = await addFile(root, "manifest.json", path.join(outDir, "manifest.json"), {
    name: "manifest.json",
    encodingFormat: "application/json",
    description:
      "The replay's manifest, as replay-runner wrote it: one row per step, with hashes and verdicts.",
  });
  const schemaFile = await addFile(root, "manifest.schema.json", MANIFEST_SCHEMA_FILE, {
    name: "manifest.schema.json",
    encodingFormat: "application/schema+json",
    description: "JSON Schema (draft 2020-12) of manifest.json.",
  });
  const attestationSource = path.join(outDir, ATTESTATION_FILE);
  const attestationFile = (await exists(attestationSource))
    ? await addFile(root, ATTESTATION_FILE, attestationSource, {
        name: ATTESTATION_FILE,
        encodingFormat: "application/json",
        description:
          "A DSSE envelope (payloadType application/vnd.in-toto+json) around an in-toto Statement v1 with a SLSA Verification Summary Attestation: `replay-runner verify-attestation` or openssl checks it (README, Evidence for auditors).",
      })
    : null;
  const workflowFile = await writeFileEntry(
    root,
    "workflow.json",
    `${JSON.stringify(chainToJson(chain), null, 2)}\n`,
    {
      name: `The recorded chain behind ${manifest.target.artifact_id}`,
      encodingFormat: "application/json",
      description:
        "The registry's processing steps (with parameters, inputs and environments) that the replay re-executed.",
    },
  );

  const tools = new Map<string, CrateStepTool>();
  const scripts = new Map<string, CrateFile>();
  for (const row of manifest.steps) {
    const cs = byStep.get(row.step_id);
    const handled = handlerFor(row.step_type) !== undefined;
    let script: CrateFile | null = null;
    const params = cs === undefined ? null : parseContainerParameters(cs.step.parameters);
    if (params?.ok === true && handlerFor(row.step_type)?.mode === "container") {
      const { codeHash, codeName } = params.value;
      const id = `code/${codeHash.slice("sha256:".length, "sha256:".length + 16)}/${safeFileName(codeName)}`;
      const check = await blobs.check(codeHash);
      if (check.state === "intact") {
        script =
          scripts.get(id) ??
          (await addFile(root, id, blobs.pathFor(codeHash), {
            name: codeName,
            encodingFormat: "text/x-python",
            description: `A step's script (code_hash ${codeHash}).`,
          }));
        scripts.set(id, script);
      }
    }
    tools.set(row.step_id, { script, stepType: row.step_type, handled });
  }

  // One version of each artifact: the bytes the replay made where it made some, else the record's.
  const artifacts = new Map<string, ArtifactEntry>();
  const produced = new Map(manifest.steps.map((r) => [r.target_artifact_id, r]));
  const wanted = new Set<string>([
    manifest.target.artifact_id,
    ...manifest.steps.flatMap((r) => [r.target_artifact_id, ...r.inputs.map((i) => i.artifact_id)]),
  ]);
  for (const artifactId of wanted) {
    const row = produced.get(artifactId);
    const recorded = chain.artifacts.get(artifactId);
    const candidates: string[] = [];
    const replayedPayload = row === undefined ? null : payloadPath(outDir, row.payload);
    if (replayedPayload !== null) candidates.push(replayedPayload);
    if (row?.output_hash_replayed != null) candidates.push(blobs.pathFor(row.output_hash_replayed));
    const recordedHash =
      row?.output_hash_replayed == null
        ? (manifest.steps.flatMap((r) => r.inputs).find((i) => i.artifact_id === artifactId)?.content_hash ??
          recorded?.contentHash)
        : row.output_hash_live;
    // An ingest step's output is its blob as found (a corrupted blob keeps its recorded name).
    if (recordedHash !== undefined && isContentHash(recordedHash))
      candidates.push(blobs.pathFor(recordedHash));
    let entry: ArtifactEntry | undefined;
    for (const from of candidates) {
      if (!(await exists(from))) continue;
      const file = await addFile(root, `artifacts/${safeFileName(artifactId)}`, from, {
        name: recorded?.title ?? artifactId,
        encodingFormat: recorded?.mediaType ?? undefined,
        description: `Artifact ${artifactId}${row?.output_hash_replayed != null ? " as this replay produced it" : " as recorded"}; the registry records ${recorded?.contentHash ?? "no row"}.`,
      });
      entry = { kind: "file", file, artifactId };
      break;
    }
    artifacts.set(
      artifactId,
      entry ?? {
        kind: "absent",
        artifactId,
        contentHash: recordedHash ?? recorded?.contentHash ?? "unknown",
        why: "neither the replay's folder nor the blob store holds its bytes",
      },
    );
  }

  const graph = runCrateGraph({
    manifest,
    manifestFile,
    schemaFile,
    workflowFile,
    attestationFile,
    toolVersion: request.toolVersion,
    license: request.license,
    tools,
    artifacts,
  });
  await writeFile(path.join(root, "ro-crate-metadata.json"), `${JSON.stringify(graph, null, 2)}\n`);
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) =>
    e.isFile(),
  ).length;
  return { actions: manifest.steps.length + 1, files };
}

/** Every file under `dir`, as `/`-separated paths, sorted: a zip's entries in a stable order. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

async function zipFolder(dir: string, zipFile: string, mtime: Date): Promise<void> {
  const { ZipFile } = await import("yazl"); // only --zip needs it
  const zip = new ZipFile();
  for (const rel of await filesUnder(dir)) zip.addFile(path.join(dir, rel), rel, { mtime, mode: 0o100644 });
  zip.end();
  const tmp = `${zipFile}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await pipeline(zip.outputStream, createWriteStream(tmp, { flags: "wx" }));
    await rename(tmp, zipFile);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function folderIsFree(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
}

export async function exportRunCrate(request: ExportRequest): Promise<ExportResult> {
  if (request.dest === undefined && request.zip === undefined)
    throw usage(
      "export-crate needs --out DIR, --zip FILE, or both.",
      "See `replay-runner export-crate --help`.",
    );
  const manifest = await readManifestOf(path.resolve(request.outDir));
  const dest = request.dest === undefined ? undefined : path.resolve(request.dest);
  if (dest !== undefined && !(await folderIsFree(dest)))
    throw usage(
      `${dest} exists and is not empty: a crate is written to a new or empty folder.`,
      "Choose another --out.",
      {
        path: dest,
      },
    );
  const base = dest ?? path.resolve(request.zip ?? "crate");
  const work = `${base}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(work, { recursive: true });
    const built = await buildCrate(work, request, manifest).catch((error: unknown) => {
      if (error instanceof ReplayError) throw error;
      throw new ReplayError("OUTPUT", `Cannot write the crate in ${work}: ${messageOf(error)}`, {
        hint: "Choose a writable folder with space for the replay's artifacts.",
        cause: error,
      });
    });
    const zip = request.zip === undefined ? null : path.resolve(request.zip);
    if (zip !== null) await zipFolder(work, zip, new Date(manifest.finished_at));
    if (dest !== undefined) {
      await rm(dest, { recursive: true, force: true }); // an empty folder (checked above)
      await rename(work, dest);
    }
    return { dir: dest ?? null, zip, ...built };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
