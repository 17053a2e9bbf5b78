/**
 * export-crate of a real chain (ingest → transform → analysis in a pip environment → render →
 * cite): the crate passes the offline JSON-LD validator (test/support/run-crate-validator.ts)
 * and has one CreateAction per step whose hashes are the manifest's.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/replay/index.js";
import { readManifest } from "../support/manifest-schema.js";
import { requestedUrls, validateRunCrate, type CrateReport } from "../support/run-crate-validator.js";
import { runCli, type CliResult } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { CHAIN_STEPS, recordEvidenceChain, type EvidenceChain } from "./evidence-chain.js";

const run = promisify(execFile);
const S = "http://schema.org/";
const WFRUN = "https://w3id.org/ro/terms/workflow-run#";
const hex = (hash: string | null) => hash?.slice("sha256:".length);

describe("export-crate", () => {
  let registry: TestRegistry;
  let chain: EvidenceChain;
  let manifest: Manifest;
  let exported: CliResult;
  let report: CrateReport;
  const cli = (args: string[]) =>
    runCli(args, { env: { ...registry.env, REPLAY_WHEELHOUSE: chain.wheelhouse }, cwd: registry.dir });
  const crate = () => path.join(registry.dir, "crate");

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    chain = await recordEvidenceChain(registry);
    expect((await cli(["keygen", "--out", "keys"])).code).toBe(0);
    const replay = await cli(["rerun", "citation", "--sign", "keys/signing-key.pem", "--out", "replay"]);
    expect(replay.code, replay.stderr).toBe(0);
    manifest = await readManifest(path.join(registry.dir, "replay"));
    exported = await cli(["export-crate", "replay", "--out", "crate", "--zip", "crate.zip"]);
    report = await validateRunCrate(crate());
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("writes the crate and its zip, and says so", () => {
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(
      `crate: ${crate()} and ${path.join(registry.dir, "crate.zip")} (6 CreateActions, 13 files)\n`,
    );
  });

  it("passes the offline validator: jsonld in safe mode with local contexts, then the profile's MUSTs", () => {
    expect(report.problems).toEqual([]);
    expect([...new Set(requestedUrls)].sort()).toEqual([
      "https://w3id.org/ro/crate/1.1/context",
      "https://w3id.org/ro/terms/workflow-run/context",
    ]);
  });

  it("has one CreateAction per step, whose instrument, image, inputs and output carry the manifest's hashes", () => {
    const node = (id: string) => {
      const n = report.nodes.get(id);
      if (n === undefined) throw new Error(`the crate has no entity ${id}`);
      return n;
    };
    const stepRuns = [...report.nodes.values()].filter(
      (n) => n.types.includes(`${S}CreateAction`) && n.id !== "#replay",
    );
    expect(stepRuns.map((n) => n.id).sort()).toEqual(CHAIN_STEPS.map((s) => `#run-${s}`).sort());
    for (const row of manifest.steps) {
      const action = node(`#run-${row.step_id}`);
      expect(action.values(`${S}startTime`)).toEqual([row.started_at]);
      expect(action.values(`${S}endTime`)).toEqual([row.finished_at]);
      expect(action.ids(`${S}actionStatus`)).toEqual([`${S}CompletedActionStatus`]);
      expect(action.values(`${S}description`)[0]).toMatch(
        row.step_type === "ingest" ? /Verified: / : /Reproduced: /,
      );
      const [result] = action.ids(`${S}result`).map(node);
      expect(result!.values(`${WFRUN}sha256`)).toEqual([hex(row.output_hash_replayed)]);
      expect(result!.values(`${S}contentSize`)).toEqual([String(row.size_replayed)]);
      expect(action.ids(`${S}object`).map((id) => node(id).values(`${WFRUN}sha256`)[0])).toEqual(
        row.inputs.map((i) => hex(i.content_hash)),
      );
      const [instrument] = action.ids(`${S}instrument`).map(node);
      if (row.image === null) {
        expect(instrument!.id).toBe(`#handler-${row.step_type}`);
        expect(action.ids(`${WFRUN}containerImage`)).toEqual([]);
      } else {
        // The script (its hash against the registry's code_hash: the next test).
        expect(instrument!.types).toContain(`${S}SoftwareSourceCode`);
        const [image] = action.ids(`${WFRUN}containerImage`).map(node);
        expect(image!.types).toEqual([`${WFRUN}ContainerImage`]);
        expect(image!.values(`${WFRUN}sha256`)).toEqual([hex(row.image.id)]);
      }
    }
    expect(manifest.steps.filter((r) => r.image !== null).map((r) => r.step_id)).toEqual([
      "s-clean",
      "s-stats",
      "s-render",
    ]);
    // The analysis ran in its pinned pip environment's image.
    expect(manifest.steps.find((r) => r.step_id === "s-stats")!.image!.ref).toBe(
      `replay-env:${chain.envHash.slice("sha256:".length, "sha256:".length + 32)}`,
    );
  });

  it("holds each step's script with the registry's code_hash, and the signed manifest and attestation", async () => {
    const workflow = JSON.parse(await readFile(path.join(crate(), "workflow.json"), "utf8")) as {
      steps: { id: string; parameters: { code_hash?: string } }[];
    };
    for (const step of workflow.steps.filter((s) => s.parameters.code_hash !== undefined)) {
      const script = [...report.nodes.values()].find(
        (n) => n.id.startsWith("code/") && n.values(`${WFRUN}sha256`)[0] === hex(step.parameters.code_hash!),
      );
      expect(script, step.id).toBeDefined();
      expect(report.nodes.get(`#run-${step.id}`)!.ids(`${S}instrument`)).toEqual([script!.id]);
    }
    expect(await readFile(path.join(crate(), "manifest.json"))).toEqual(
      await readFile(path.join(registry.dir, "replay", "manifest.json")),
    );
    // The attestation in the crate still verifies, beside the crate's copy of the manifest.
    const verify = await cli([
      "verify-attestation",
      path.join(crate(), "attestation.intoto.json"),
      "--key",
      "keys/signing-key.pub.pem",
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(report.nodes.get("./")!.values(`${S}description`)[0]).toMatch(
      /Every step reproduced byte for byte \(4 replayed, 1 frozen input\(s\) verified, of 5\)\.$/,
    );
  });

  it("zips the same files, byte for byte", async () => {
    const { stdout } = await run("python3", [
      "-c",
      "import hashlib, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in sorted(z.namelist()): print(hashlib.sha256(z.read(n)).hexdigest(), n)",
      path.join(registry.dir, "crate.zip"),
    ]);
    const { stdout: onDisk } = await run(
      "bash",
      [
        "-c",
        "find . -type f | sed 's|^./||' | LC_ALL=C sort | while read -r f; do echo \"$(sha256sum \"$f\" | cut -d' ' -f1) $f\"; done",
      ],
      { cwd: crate() },
    );
    expect(stdout).toBe(onDisk);
  });

  it("exports by replay id too, and refuses a folder that is not empty", async () => {
    const byId = await cli(["export-crate", manifest.replay_id, "--out", "crate-by-id"]);
    expect(byId.code, byId.stderr).toBe(0);
    expect((await validateRunCrate(path.join(registry.dir, "crate-by-id"))).problems).toEqual([]);
    const again = await cli(["export-crate", "replay", "--out", "crate"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      `error: ${crate()} exists and is not empty: a crate is written to a new or empty folder.\n`,
    );
  });

  it("the validator is not a rubber stamp: it catches a missing instrument, an undefined term and a wrong hash", async () => {
    const doc = JSON.parse(await readFile(path.join(crate(), "ro-crate-metadata.json"), "utf8")) as {
      "@graph": Record<string, unknown>[];
    };
    const edited = (change: (g: Record<string, unknown>[]) => void) => {
      const copy = structuredClone(doc);
      change(copy["@graph"]);
      return copy;
    };
    const noInstrument = edited((g) => delete g.find((e) => e["@id"] === "#run-s-clean")!.instrument);
    expect((await validateRunCrate(crate(), noInstrument)).problems).toContain(
      "#run-s-clean: CreateAction MUST have an instrument",
    );
    const undefinedTerm = edited((g) => (g.find((e) => e["@id"] === "#run-s-clean")!.sha265 = "x"));
    expect((await validateRunCrate(crate(), undefinedTerm)).problems[0]).toMatch(
      /^JSON-LD \(jsonld, safe mode\): /,
    );
    const wrongHash = edited((g) => (g.find((e) => e["@id"] === "manifest.json")!.sha256 = "0".repeat(64)));
    expect((await validateRunCrate(crate(), wrongHash)).problems).toEqual([
      `manifest.json: sha256 ${"0".repeat(64)} is not its bytes' SHA-256`,
    ]);
  });
});
