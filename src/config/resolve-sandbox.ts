import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { InvalidOptionError } from "../errors/index.js";
import {
  defaultHostPathPolicy,
  resolveParsedVolumes,
  tryParseVolumeSpec,
  type ParsedVolume,
  type VolumeProblem,
  type VolumeSpec,
} from "../volumes/index.js";
import { checkCallOptions, type CheckedCallOptions } from "./call-options.js";
import { loadConfigFile } from "./load-file.js";
import { checkStartScript, type BackendKind } from "./option-rules.js";
import { resolveBackend } from "./resolve-backend.js";
import { resolveServer } from "./resolve-server.js";
import { refuseMissingFoldersInProjectState, refuseVolumesExposingConfig } from "./trusted-config.js";
import { locateVolumeProblems } from "./volume-locations.js";
import type { FileSandboxConfig, ResolvedSandboxConfig, ResolvedServerConfig, SandboxCallOptions } from "./types.js";

/** `sandbox-` + 8 hex characters: the one generator of default sandbox names. */
export function randomSandboxName(): string {
  return `sandbox-${randomUUID().replaceAll("-", "").slice(0, 8)}`;
}

/** Built-in defaults, as upstream (docs/protocol.md#client-defaults). */
export const DEFAULT_IMAGES = { python: "microsandbox/python", node: "microsandbox/node" } as const;
export const DEFAULT_MEMORY_MIB = 512;
export const DEFAULT_CPUS = 1;

export interface ResolveSandboxInput {
  /** Which class asked: picks the default image when `defaultImage` is not given. */
  kind: "python" | "node";
  /** The asking class's own default image (`getDefaultImage()`), below call options and the file. */
  defaultImage?: string;
  options: SandboxCallOptions;
  /** Default `process.cwd()`. */
  cwd?: string;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Whether the backend can enforce read-only mounts (the legacy server cannot). A function gets the
   * resolved server and backend kind and is asked only when a volume is readonly (it may query the
   * chosen backend's capabilities).
   */
  readonlySupported: boolean | ((server: ResolvedServerConfig, backend: BackendKind) => Promise<boolean>);
  /** Validate only: create no missing `create = true` folder (read-only commands). */
  dryRun?: boolean;
}

export interface ResolveSandboxResult {
  sandbox: ResolvedSandboxConfig;
  /** Which backend runs it (call > file sandbox > [defaults] > [server] > "rpc"). */
  backend: BackendKind;
  server: ResolvedServerConfig;
  /** Folder of the config file if one was found, else cwd. */
  projectDir: string;
  configFile?: string;
}

/**
 * Merges call options > env > `microsandbox.toml` (`[sandboxes.<name>]` over `[defaults]`) > built-in
 * defaults into one validated sandbox. `{ name }` alone starts the sandbox the file declares under that
 * name. Volumes merge by guest path (the call wins); env and scripts merge by name; lists such as ports
 * are replaced whole. Throws InvalidOptionError, ConfigError or a volume error before anything is sent.
 */
export async function resolveSandbox(input: ResolveSandboxInput): Promise<ResolveSandboxResult> {
  const cwd = path.resolve(input.cwd ?? process.cwd());
  const env = input.env ?? process.env;
  const call = checkCallOptions(input.options ?? {});
  const file = await loadConfigFile({ ...(call.configPath !== undefined ? { configPath: call.configPath } : {}), cwd, env });
  const projectDir = file?.dir ?? cwd;
  const name = call.name ?? randomSandboxName();
  const server = resolveServer(call, env, file);
  const layers: FileSandboxConfig[] = [file?.defaults ?? {}, file?.sandboxes[name] ?? {}];
  const pick = <K extends keyof FileSandboxConfig>(key: K): FileSandboxConfig[K] =>
    layers.reduceRight<FileSandboxConfig[K]>((found, layer) => found ?? layer[key], undefined);

  const image = call.image ?? pick("image") ?? input.defaultImage ?? DEFAULT_IMAGES[input.kind];
  const scripts = mergeRecords([...layers.map((l) => l.scripts), call.scripts]);
  const startProblem = checkStartScript(scripts, image);
  if (startProblem) {
    throw new InvalidOptionError(startProblem, {
      hint: 'rename the script (e.g. "setup"), or use an image of your own whose main process is not the portal',
    });
  }

  const backend = resolveBackend(call, file, name);
  const policy = await defaultHostPathPolicy(projectDir, {
    allow: [...(file?.policy.allow ?? []), ...(call.allowHostPaths ?? [])],
    baseDir: projectDir,
  });
  const merged = mergeVolumes(layers, call);
  const trust = { projectDir, ...(file ? { configFile: file.path } : {}) };
  await refuseMissingFoldersInProjectState(
    merged.parsed.map(({ v }) => v),
    trust,
    projectDir,
  );
  const { readonlySupported } = input;
  const volumes = await resolveParsedVolumes(merged.parsed, merged.problems, policy, {
    readonlySupported: typeof readonlySupported === "function" ? () => readonlySupported(server, backend) : readonlySupported,
    ...(call.createVolumeDirs !== undefined ? { createMissing: call.createVolumeDirs } : {}),
    ...(input.dryRun ? { dryRun: true } : {}),
  }).catch(async (err: unknown) => {
    throw file ? await locateVolumeProblems(err, merged.specs, file, name) : err;
  });
  await refuseVolumesExposingConfig(volumes, trust);

  const workdir = call.workdir ?? pick("workdir");
  const shell = call.shell ?? pick("shell");
  const sandbox: ResolvedSandboxConfig = {
    name,
    image,
    memory: call.memory ?? pick("memory") ?? DEFAULT_MEMORY_MIB,
    cpus: call.cpus ?? pick("cpus") ?? DEFAULT_CPUS,
    volumes,
    ports: [...(call.ports ?? pick("ports") ?? [])],
    envs: mergeEnvs(layers, call.envs),
    dependsOn: [...(call.dependsOn ?? pick("dependsOn") ?? [])],
    ...(workdir !== undefined ? { workdir } : {}),
    ...(shell !== undefined ? { shell } : {}),
    ...(scripts !== undefined ? { scripts } : {}),
    ...(call.exec !== undefined ? { exec: call.exec } : {}),
  };
  return {
    sandbox,
    backend,
    server,
    projectDir,
    ...(file ? { configFile: file.path } : {}),
  };
}

/**
 * Parses every volume once and merges: file volumes keyed by guest ([sandboxes.x] over [defaults]); a
 * call volume replaces the same guest. Positions (for messages) are those of the merged list.
 */
function mergeVolumes(
  layers: readonly FileSandboxConfig[],
  call: CheckedCallOptions,
): { parsed: { v: ParsedVolume; index: number }[]; problems: VolumeProblem[]; specs: VolumeSpec[] } {
  // Each parse result keeps the spec it came from, so a problem can be traced to its file line.
  type Parsed = { p: ParsedVolume | VolumeProblem; spec: VolumeSpec };
  const fromFile = new Map<string, Parsed>();
  for (const layer of layers) {
    (layer.volumes ?? []).forEach((spec, i) => {
      const p = tryParseVolumeSpec(spec, i);
      fromFile.set("code" in p ? `\0invalid${fromFile.size}` : p.guest, { p, spec });
    });
  }
  // Call volumes are kept as a list so that duplicates among them are still reported by src/volumes.
  const fromCall = (call.volumes ?? []).map((spec, i) => ({ p: tryParseVolumeSpec(spec, i), spec }));
  for (const { p } of fromCall) if (!("code" in p)) fromFile.delete(p.guest);
  const parsed: { v: ParsedVolume; index: number }[] = [];
  const problems: VolumeProblem[] = [];
  const specs: VolumeSpec[] = [];
  [...fromFile.values(), ...fromCall].forEach(({ p, spec }, index) => {
    specs.push(spec);
    if ("code" in p) problems.push({ ...p, index });
    else parsed.push({ v: p, index });
  });
  return { parsed, problems, specs };
}

/** `NAME=value` list: [defaults] env, then [sandboxes.x] env, then call envs; the later wins per name. */
function mergeEnvs(layers: readonly FileSandboxConfig[], callEnvs: readonly string[] | undefined): string[] {
  const merged = new Map<string, string>();
  for (const layer of layers) for (const [k, v] of Object.entries(layer.env ?? {})) merged.set(k, v);
  for (const entry of callEnvs ?? []) {
    const eq = entry.indexOf("=");
    merged.delete(entry.slice(0, eq)); // re-insert so the order follows precedence
    merged.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

function mergeRecords(records: readonly (Record<string, string> | undefined)[]): Record<string, string> | undefined {
  const present = records.filter((r): r is Record<string, string> => r !== undefined);
  return present.length === 0 ? undefined : Object.assign({}, ...present);
}
