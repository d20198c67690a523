import { lstat, readFile } from "node:fs/promises";
import * as path from "node:path";
import { parse } from "smol-toml";
import { ErrorCodes, HostPathError } from "../errors/index.js";
import { expandHome, isSameOrInside, realpathLongestPrefix, tryParseVolumeSpec, type ParsedVolume, type ResolvedVolume } from "../volumes/index.js";

// The config file decides what a sandbox may mount, so a sandbox must never be able to write it.
// Two rules (docs/security.md, "The trusted config is out of reach"):
//  1. a volume may not expose the active microsandbox.toml or the project's .microsandbox/ folder;
//  2. discovery ignores a microsandbox.toml that lies inside a folder a config further up declares as a
//     volume: a sandbox could have planted it there.

/** The project's own state folder (sync records, generated configs). */
export const PROJECT_STATE_DIR = ".microsandbox";

/**
 * Refuses (MSBV_VOLUME_EXPOSES_CONFIG) a volume whose host folder is or contains the active config
 * file or `<projectDir>/.microsandbox`, or lies inside `.microsandbox`. `volumes` are canonical.
 */
export async function refuseVolumesExposingConfig(
  volumes: readonly ResolvedVolume[],
  trust: { configFile?: string; projectDir: string },
): Promise<void> {
  const stateDir = await realpathLongestPrefix(path.join(trust.projectDir, PROJECT_STATE_DIR));
  // The file's directory entry (a sandbox able to write there could replace it) and, when it is a
  // symlink, its target.
  const configPaths =
    trust.configFile === undefined
      ? []
      : [
          path.join(await realpathLongestPrefix(path.dirname(trust.configFile)), path.basename(trust.configFile)),
          await realpathLongestPrefix(trust.configFile),
        ];
  for (const v of volumes) {
    const configFile = configPaths.find((p) => isSameOrInside(p, v.host));
    const exposed =
      configFile !== undefined ? configFile : isSameOrInside(stateDir, v.host) || isSameOrInside(v.host, stateDir) ? stateDir : undefined;
    if (exposed === undefined) continue;
    throw new HostPathError(
      ErrorCodes.VOLUME_EXPOSES_CONFIG,
      `volume "${v.host}:${v.guest}" would let the sandbox rewrite ${exposed}, which decides what sandboxes may mount`,
      {
        hint: `mount a sub-folder that holds only the work, e.g. "./workspace:${v.guest}"`,
        details: { host: v.host, guest: v.guest, exposed },
      },
    );
  }
}

/**
 * The same check, before resolution, for volume folders that do not exist yet: resolution may create
 * them (`create`), and a refused call must change nothing. (A missing folder can only be refused for lying
 * inside `.microsandbox/`; existing ones are checked after resolution, so the host-path policy's own
 * errors keep precedence.) Takes the volumes already parsed by the caller (parse once).
 */
export async function refuseMissingFoldersInProjectState(
  parsed: readonly ParsedVolume[],
  trust: { configFile?: string; projectDir: string },
  baseDir: string,
): Promise<void> {
  const volumes: ResolvedVolume[] = [];
  for (const v of parsed) {
    const written = path.resolve(baseDir, expandHome(v.host));
    if (await exists(written)) continue;
    const host = await realpathLongestPrefix(written).catch(() => undefined);
    if (host !== undefined) volumes.push({ host, guest: v.guest, readonly: v.readonly });
  }
  await refuseVolumesExposingConfig(volumes, trust);
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Whether `candidate` (a microsandbox.toml found by walking up) lies inside a folder that a
 * microsandbox.toml in one of its ancestor folders declares as a volume host folder. Such a file is
 * sandbox-writable and therefore not trusted. Unreadable or invalid ancestors declare nothing.
 */
export async function isInsideDeclaredVolume(candidate: string, fileName: string): Promise<string | undefined> {
  // Both where the directory entry is (a sandbox may plant a symlink there) and what it points to.
  const entry = path.join(await realpathLongestPrefix(path.dirname(candidate)), path.basename(candidate));
  const target = await realpathLongestPrefix(candidate);
  // Ancestors along the path as given and along the real path (cwd may be reached through a symlink).
  const dirs = new Set([...ancestors(path.dirname(path.resolve(candidate))), ...ancestors(path.dirname(entry))]);
  for (const dir of dirs) {
    const ancestor = path.join(dir, fileName);
    for (const host of await declaredVolumeHosts(ancestor)) {
      if (isSameOrInside(entry, host) || isSameOrInside(target, host)) return ancestor;
    }
  }
  return undefined;
}

/** Strict ancestors of `dir`, nearest first, up to `/`. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    out.push(d);
    if (path.dirname(d) === d) return out;
  }
}

async function declaredVolumeHosts(file: string): Promise<string[]> {
  let raw: Record<string, unknown>;
  try {
    raw = parse(await readFile(file, "utf8"));
  } catch {
    return [];
  }
  const tables = [raw.defaults, ...Object.values(isRecord(raw.sandboxes) ? raw.sandboxes : {})];
  const hosts: string[] = [];
  for (const table of tables) {
    if (!isRecord(table) || !Array.isArray(table.volumes)) continue;
    table.volumes.forEach((spec: unknown, i: number) => {
      const parsed = tryParseVolumeSpec(spec, i);
      if (!("code" in parsed)) hosts.push(path.resolve(path.dirname(file), expandHome(parsed.host)));
    });
  }
  return Promise.all(hosts.map((h) => realpathLongestPrefix(h).catch(() => h)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
