import { realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";
import type { RuntimeVolume } from "../runtime/types.js";
import { internalError, validationError } from "../protocol/json-rpc.js";
import { validateVolumes, type VolumePair } from "../protocol/config-strings.js";

/**
 * Where the server keeps things a sandbox must never see: its runtime state (`.menv`), the
 * Sandboxfile and the signing key. All canonical. A mount source equal to, inside, or above one of
 * these is refused, because mounting an ancestor would expose the state just the same.
 */
export interface ServerStatePaths {
  /** Canonical project dir: relative host paths resolve against it (legacy rule, PR #220). */
  projectDir: string;
  protectedPaths: readonly string[];
}

/** Realpath of the longest existing prefix, plus the rest as written (path need not exist). */
export async function canonicalizeLongestPrefix(path: string): Promise<string> {
  const tail: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...tail.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === current) throw err;
      tail.push(basename(current));
      current = parent;
    }
  }
}

function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function protectedHit(canonical: string, state: ServerStatePaths): string | undefined {
  return state.protectedPaths.find((p) => isWithin(canonical, p) || isWithin(p, canonical));
}

function absoluteHost(host: string, state: ServerStatePaths): string {
  // No `~` or `$VAR` expansion, exactly like upstream: `~/x` is a folder named `~` in the project dir.
  return isAbsolute(host) ? host : join(state.projectDir, host);
}

/**
 * Before the Sandboxfile is written: syntax, guest rules, and the server-state refusal (400/2001).
 * Host existence is deliberately not checked here (legacy: checked when the sandbox starts).
 */
export async function checkVolumesForWrite(volumes: readonly string[], state: ServerStatePaths): Promise<void> {
  const pairs = validateVolumes(volumes);
  for (const [i, pair] of pairs.entries()) {
    const canonical = await canonicalizeLongestPrefix(absoluteHost(pair.host, state));
    const hit = protectedHit(canonical, state);
    if (hit !== undefined) {
      throw validationError(
        `Invalid volume '${volumes[i] ?? ""}' in config.volumes[${i}]: host path ${canonical} contains or is inside the dev server's own state (${hit}); mount a project folder instead`,
      );
    }
  }
}

/**
 * At start time: the runtime's absolute, canonical, existing host directories. A missing host path
 * is a 500 whose cause is logged (upstream reports success and the VM fails later — we say it now).
 */
export async function resolveVolumesForStart(volumes: readonly string[], state: ServerStatePaths): Promise<RuntimeVolume[]> {
  // Entries may have been edited by hand: everything checked before writing is checked again.
  let pairs: VolumePair[];
  try {
    pairs = validateVolumes(volumes);
  } catch (err) {
    throw internalError(`Sandboxfile volume rejected: ${(err as Error).message}`, err);
  }
  const resolved: RuntimeVolume[] = [];
  for (const pair of pairs) {
    const host = absoluteHost(pair.host, state);
    let canonical: string;
    try {
      canonical = await realpath(host);
    } catch (err) {
      throw internalError(`volume host path does not exist: ${host}`, err);
    }
    if (!(await stat(canonical)).isDirectory()) {
      throw internalError(`volume host path is not a directory: ${canonical} (only directories can be mounted)`);
    }
    const hit = protectedHit(canonical, state);
    if (hit !== undefined) throw internalError(`volume host path ${canonical} is server state (${hit})`);
    resolved.push({ host: canonical, guest: pair.guest });
  }
  return resolved;
}
