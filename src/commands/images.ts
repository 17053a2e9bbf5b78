/**
 * `replay-runner images [ls | push ENV_HASH | pull ENV_HASH | prune]`: the environment images
 * this engine holds, the digests pinned in the registry database, what the shared image
 * registry (REPLAY_IMAGE_REGISTRY) has, and moving images between them by hand.
 */
import type { Command } from "commander";
import {
  environmentRowSchema,
  environmentStateOf,
  parseRowOrThrow,
  type Environment,
} from "../chain/index.js";
import type { Settings } from "../config/index.js";
import type { SqlQueryable } from "../db/index.js";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import {
  BASE_IMAGE,
  BASE_REPOSITORY,
  ENV_LABEL,
  ENV_REPOSITORY,
  ImageRegistry,
  SqlImageCache,
  baseImageSpec,
  envImageSpec,
  envImageTag,
  type SharedImageSpec,
} from "../images/index.js";
import { connectDockerEngine, type DockerEngine, type ImageInfo } from "../runner/index.js";
import { visibleText } from "../terminal/index.js";
import { settingsOf, withRegistry } from "./command-context.js";

const HELP_AFTER = `
The image registry is REPLAY_IMAGE_REGISTRY (or --image-registry), host:port[/prefix];
credentials come from Docker's config.json ($DOCKER_CONFIG, else ~/.docker), never from flags.
push and pull pin the registry's digest in the registry database; pull checks the image's
labels against the environments row first. prune never touches the registry.

${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.internal])}`;

/** Tags a hostile registry could send are shown only when they are tags (distribution's grammar). */
const TAG = /^[\w][\w.-]{0,127}$/;

function requireRegistry(settings: Settings): NonNullable<Settings["imageRegistry"]> {
  if (settings.imageRegistry === undefined) {
    throw new ReplayError("USAGE", "No image registry is configured.", {
      hint: "Set REPLAY_IMAGE_REGISTRY (or --image-registry) to host:port[/prefix], e.g. 127.0.0.1:5000/replay.",
    });
  }
  return settings.imageRegistry;
}

function registryFor(settings: Settings, engine: DockerEngine, db: SqlQueryable): ImageRegistry {
  return new ImageRegistry({
    engine,
    address: requireRegistry(settings),
    insecure: settings.imageRegistryInsecure,
    cache: new SqlImageCache(db),
  });
}

function normaliseEnvHash(raw: string): string {
  const value = raw.trim().toLowerCase();
  const hash = /^[0-9a-f]{64}$/.test(value) ? `sha256:${value}` : value;
  if (!/^sha256:[0-9a-f]{64}$/.test(hash)) {
    throw new ReplayError("USAGE", `"${raw}" is neither an env_hash (sha256:<64 hex>) nor ${BASE_IMAGE}.`, {
      hint: "`replay-runner images ls` lists the environments this engine has; `lineage --json` names a step's env_hash.",
    });
  }
  return hash;
}

/** The environments row, trusted only when its columns still hash to its key. */
async function environmentOf(db: SqlQueryable, envHash: string): Promise<Environment> {
  const rows = await db.query(
    `SELECT env_hash, base_image, lockfile_kind, requirements_lock FROM environments WHERE env_hash = $1`,
    [envHash],
  );
  if (rows[0] === undefined)
    throw new ReplayError("NOT_FOUND", `The registry has no environment ${envHash}.`);
  const environment = parseRowOrThrow(environmentRowSchema, "environments", envHash, rows[0]);
  const state = environmentStateOf(envHash, new Map([[envHash, environment]]));
  if (state.kind === "altered") {
    throw new ReplayError(
      "REGISTRY_DATA",
      `The environments row ${envHash} was altered: its columns hash to ${state.actualHash}.`,
    );
  }
  if (environment.lockfileKind !== "pip") {
    throw new ReplayError(
      "USAGE",
      `Environment ${envHash} has lockfile_kind "${environment.lockfileKind}": it runs in its base image, there is no environment image to move.`,
      { hint: `Move the base image instead: replay-runner images push ${BASE_IMAGE}` },
    );
  }
  return environment;
}

/** What `push`/`pull` act on: an environment's image, or the base image. */
async function targetOf(db: SqlQueryable, raw: string): Promise<{ spec: SharedImageSpec; localRef: string }> {
  if (raw === BASE_IMAGE) return { spec: baseImageSpec(), localRef: BASE_IMAGE };
  const environment = await environmentOf(db, normaliseEnvHash(raw));
  return { spec: envImageSpec(environment), localRef: envImageTag(environment.envHash) };
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function list(settings: Settings, json: boolean): Promise<void> {
  const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
  const local = await engine.listImages({ labels: [ENV_LABEL.envHash] });
  const base = await engine.inspectImage(BASE_IMAGE);
  const address = settings.imageRegistry;
  const registry = await withRegistry(settings, { migrate: true }, async (db) => {
    const cache = new SqlImageCache(db);
    const pins = await cache.list(address?.text);
    if (address === undefined) return { pins, remote: null };
    const shared = registryFor(settings, engine, db);
    const remote = await Promise.all([shared.tags(ENV_REPOSITORY), shared.tags(BASE_REPOSITORY)]).then(
      ([env, baseTags]) => ({
        env: env.filter((t) => TAG.test(t)),
        base: baseTags.filter((t) => TAG.test(t)),
      }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    );
    return { pins, remote };
  });
  const digestIn = (info: ImageInfo, name: string): string | null => {
    if (address === undefined) return null;
    const prefix = `${[address.host, address.prefix, name].filter((p) => p !== "").join("/")}@`;
    return info.repoDigests.find((d) => d.startsWith(prefix))?.slice(prefix.length) ?? null;
  };
  const localRows = [
    ...(base === null
      ? []
      : [{ image: BASE_IMAGE, env_hash: null, id: base.id, digest: digestIn(base, BASE_REPOSITORY) }]),
    ...local.map((i) => ({
      image: i.tags.find((t) => t.startsWith(`${ENV_REPOSITORY}:`)) ?? "(untagged)",
      env_hash: i.labels[ENV_LABEL.envHash] ?? null,
      id: i.id,
      digest: digestIn(i, ENV_REPOSITORY),
    })),
  ];
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          registry: address?.text ?? null,
          local: localRows,
          pinned: registry.pins.map((p) => ({
            registry: p.registry,
            key: p.key,
            digest: p.digest,
            image_id: p.imageId,
            via: p.via,
          })),
          remote: registry.remote,
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const out: string[] = [];
  out.push("Local images (this engine):");
  out.push(
    table([
      ["image", "env_hash", "id", "registry digest"],
      ...localRows.map((r) => [r.image, r.env_hash ?? "-", r.id.slice(0, 19), r.digest ?? "-"]),
    ]),
  );
  out.push("", `Pinned digests${address === undefined ? "" : ` for ${address.text}`} (registry database):`);
  out.push(
    registry.pins.length === 0
      ? "  none"
      : table([["key", "digest", "via"], ...registry.pins.map((p) => [p.key, p.digest, p.via])]),
  );
  if (address === undefined) {
    out.push("", "No image registry configured (REPLAY_IMAGE_REGISTRY).");
  } else if (registry.remote !== null && "error" in registry.remote) {
    out.push("", `The image registry ${address.text}: ${registry.remote.error}`);
  } else if (registry.remote !== null) {
    out.push("", `In the image registry ${address.text}:`);
    out.push(
      `  ${ENV_REPOSITORY}: ${registry.remote.env.length === 0 ? "none" : registry.remote.env.join(" ")}`,
    );
    out.push(
      `  ${BASE_REPOSITORY}: ${registry.remote.base.length === 0 ? "none" : registry.remote.base.join(" ")}`,
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

async function push(settings: Settings, raw: string): Promise<void> {
  requireRegistry(settings);
  const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
  await withRegistry(settings, { migrate: true }, async (db) => {
    const { spec, localRef } = await targetOf(db, raw);
    const info = await engine.inspectImage(localRef);
    if (info === null) {
      throw new ReplayError("NOT_FOUND", `This engine has no ${localRef} to push.`, {
        hint: "Replay a step of that environment first (it builds the image), or pull it.",
      });
    }
    // Never publish an image whose labels say another environment.
    const problem = spec.check(info.labels);
    if (problem !== null)
      throw new ReplayError("IMAGE_REGISTRY", `Refusing to push ${localRef}: ${problem}.`);
    const shared = registryFor(settings, engine, db);
    const digest = await shared.push(info.id, spec);
    process.stdout.write(
      `pushed ${localRef} as ${shared.repository(spec.name)}:${spec.tag}\n${shared.repository(spec.name)}@${digest}\n`,
    );
  });
}

async function pull(settings: Settings, raw: string): Promise<void> {
  requireRegistry(settings);
  const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
  await withRegistry(settings, { migrate: true }, async (db) => {
    const { spec, localRef } = await targetOf(db, raw);
    const shared = registryFor(settings, engine, db);
    const outcome = await shared.pull(spec);
    if (outcome.kind === "absent") throw new ReplayError("NOT_FOUND", `${visibleText(outcome.why)}.`);
    if (outcome.kind !== "pulled") throw new ReplayError("IMAGE_REGISTRY", `${visibleText(outcome.why)}.`);
    process.stdout.write(`pulled ${outcome.reference}\n${localRef} is ${outcome.imageId}\n`);
  });
}

async function prune(settings: Settings): Promise<void> {
  const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
  const address = settings.imageRegistry;
  const images = await engine.listImages({ labels: [ENV_LABEL.envHash] });
  let removed = 0;
  let kept = 0;
  for (const image of images) {
    const prefix =
      address === undefined
        ? undefined
        : `${[address.host, address.prefix, ENV_REPOSITORY].filter((p) => p !== "").join("/")}@`;
    const shared = prefix !== undefined && image.repoDigests.some((d) => d.startsWith(prefix));
    if (image.tags.length > 0 && !shared) continue;
    // Every name of the image, then the image: the engine refuses while a container uses it.
    for (const tag of image.tags) await engine.removeImage(tag);
    await engine.removeImage(image.id);
    if ((await engine.inspectImage(image.id)) === null) removed++;
    else kept++;
  }
  process.stdout.write(
    `removed ${removed} environment image(s)${kept > 0 ? `; ${kept} kept (in use by a container or another image)` : ""}\n`,
  );
}

export function registerImagesCommand(program: Command): void {
  const images = program
    .command("images")
    .description("environment images: what this engine and the shared image registry hold; push, pull, prune")
    .addHelpText("after", HELP_AFTER);
  images
    .command("ls", { isDefault: true })
    .description("list local environment images, pinned digests and the registry's tags")
    .option("--json", "print it as JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      await list(settingsOf(command), options.json === true);
    });
  images
    .command("push")
    .description(`push this engine's image of an environment (or ${BASE_IMAGE}) to the image registry`)
    .argument("<env-hash>", `sha256:<64 hex> of an environments row, or ${BASE_IMAGE}`)
    .action(async (envHash: string, _options: unknown, command: Command) => {
      await push(settingsOf(command), envHash);
    });
  images
    .command("pull")
    .description(
      `pull an environment's image (or ${BASE_IMAGE}) from the image registry, checked by its labels`,
    )
    .argument("<env-hash>", `sha256:<64 hex> of an environments row, or ${BASE_IMAGE}`)
    .action(async (envHash: string, _options: unknown, command: Command) => {
      await pull(settingsOf(command), envHash);
    });
  images
    .command("prune")
    .description("remove local environment images that the registry holds, and untagged ones")
    .action(async (_options: unknown, command: Command) => {
      await prune(settingsOf(command));
    });
}
