import { constants } from "node:fs";
import { access, realpath } from "node:fs/promises";
import * as path from "node:path";

/** Real interpreter binaries on the host, and what must be bound so they run inside a sandbox. */
export interface Interpreters {
  /** Real path of a Node.js binary (always present: it also runs the in-sandbox supervisor). */
  node: string;
  /** Real path of a CPython 3 binary, when the host has one outside any home directory. */
  python: string | undefined;
  /** Host directories outside /usr that must be bound read-only at the same path. */
  roDirs: string[];
  /** Directories to put in front of the sandbox's PATH so `node`/`python3` resolve to these. */
  pathDirs: string[];
}

export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Interpreters under a home directory (pyenv shims, nvm) would need /root or /home bound, which
// would expose the host user's files; they are skipped on purpose.
const FORBIDDEN_PREFIXES = ["/root/", "/home/", "/tmp/", "/var/tmp/"];

async function resolveCandidate(candidate: string): Promise<string | undefined> {
  try {
    await access(candidate, constants.X_OK);
    const real = await realpath(candidate);
    if (FORBIDDEN_PREFIXES.some((prefix) => real.startsWith(prefix))) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

async function firstUsable(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    const real = await resolveCandidate(candidate);
    if (real) return real;
  }
  return undefined;
}

/** Python first from the distribution (`/usr/bin/python3`), never a pyenv shim under /root. */
export const PYTHON_CANDIDATES = ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"];

/** Node from /usr/local first (npm- or tarball-installed Node 22), then the distribution's, then ours. */
export function nodeCandidates(execPath: string = process.execPath): string[] {
  return ["/usr/local/bin/node", "/usr/bin/node", execPath];
}

/** Binds needed for an interpreter whose real path lies outside /usr: its installation prefix. */
export function bindsFor(real: string): { roDir?: string; pathDir?: string } {
  if (real.startsWith("/usr/")) return {};
  const binDir = path.dirname(real);
  const prefix = path.dirname(binDir);
  // An interpreter directly in /bin or /opt/x would make the prefix "/" or too broad.
  if (prefix === "/" || prefix.split("/").length < 3) return { roDir: binDir, pathDir: binDir };
  return { roDir: prefix, pathDir: binDir };
}

/** Resolves the real interpreters once; the result is shared by every sandbox of a runtime. */
export async function resolveInterpreters(execPath: string = process.execPath): Promise<Interpreters | undefined> {
  const node = await firstUsable(nodeCandidates(execPath));
  if (!node) return undefined;
  const python = await firstUsable(PYTHON_CANDIDATES);
  const roDirs: string[] = [];
  const pathDirs: string[] = [];
  for (const real of [node, python]) {
    if (!real) continue;
    const { roDir, pathDir } = bindsFor(real);
    if (roDir && !roDirs.includes(roDir)) roDirs.push(roDir);
    if (pathDir && !pathDirs.includes(pathDir)) pathDirs.push(pathDir);
  }
  return { node, python, roDirs, pathDirs };
}
