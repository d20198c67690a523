import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { HostPathError } from "../errors/errors.js";

/**
 * Expands a leading `~` or `~/` to the home folder. Upstream does not expand `~` at all (it would become
 * a folder literally named `~` on the server); we do, because that is what every user means.
 */
export function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/")) return path.join(homedir(), p.slice(2));
  return p;
}

function errCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : undefined;
}

/**
 * Realpath of the longest existing prefix of `p` (made absolute), with the missing components appended.
 * Follows every symlink, including a final one; refuses a dangling symlink, because creating folders
 * "through" it would land wherever it points.
 *
 * Synchronous inside (async for its callers): one `lstat` per component, a `realpath` only for a
 * symlink. Through libuv's thread pool each call was a hand-over to a pool thread and back, and in a
 * burst of starts those trips queued behind each other and behind fsyncs (docs/benchmarks.md#scale).
 */
export async function realpathLongestPrefix(p: string): Promise<string> {
  return realpathLongestPrefixSync(p);
}

/**
 * {@link realpathLongestPrefix}, synchronously. `known` holds what one check has resolved already
 * (path -> canonical), so paths sharing parents read them once: the deny list's twenty folders under
 * $HOME cost one `lstat` each, not a `realpath` of every component each.
 */
export function realpathLongestPrefixSync(p: string, known: Map<string, string> = new Map()): string {
  const abs = path.resolve(p);
  return canonicalOf(abs, abs, known);
}

/**
 * `current` (absolute, normalised) with every symlink resolved; a missing component and what follows
 * it are kept as written, under their parent's canonical form.
 */
function canonicalOf(current: string, abs: string, known: Map<string, string>): string {
  const hit = known.get(current);
  if (hit !== undefined) return hit;
  const parent = path.dirname(current);
  if (parent === current) return current;
  let real: string;
  if (lstatOrMissing(current)?.isSymbolicLink()) {
    try {
      real = realpathSync.native(current);
    } catch (e) {
      const code = errCode(e);
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
      throw new HostPathError(ErrorCodes.HOST_PATH_DENIED, `host path "${abs}" goes through the dangling symlink "${current}"`, {
        hint: "point the symlink at an existing folder, or use the real folder's path",
        details: { path: abs, symlink: current },
      });
    }
  } else {
    // Not a symlink (or missing): its canonical form is its parent's, plus its own name.
    real = path.join(canonicalOf(parent, abs, known), path.basename(current));
  }
  known.set(current, real);
  return real;
}

/** lstat, or undefined when nothing is there (ENOENT) or a component is not a folder (ENOTDIR). */
function lstatOrMissing(p: string) {
  try {
    return lstatSync(p);
  } catch (e) {
    const code = errCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * Absolute, canonical form of a host path: realpath of the longest existing prefix, the missing rest
 * appended (normalised). A path whose final component is itself a symlink is refused (HOST_PATH_DENIED)
 * rather than silently followed: agent-writable content must not choose what gets mounted next time.
 */
export async function canonicalizePath(p: string): Promise<string> {
  const abs = path.resolve(p);
  await refuseSymlinkLeaf(abs);
  return realpathLongestPrefix(abs);
}

/** Refuses (HOST_PATH_DENIED, naming the target) an absolute path whose final component is a symlink. */
export async function refuseSymlinkLeaf(abs: string): Promise<void> {
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(abs);
  } catch (e) {
    if (errCode(e) !== "ENOENT" && errCode(e) !== "ENOTDIR") throw e;
  }
  if (st?.isSymbolicLink()) {
    let target = "?";
    try {
      target = readlinkSync(abs);
    } catch {
      /* gone meanwhile */
    }
    throw new HostPathError(ErrorCodes.HOST_PATH_DENIED, `host path "${abs}" is a symlink (to "${target}"); mount its target explicitly`, {
      hint: `use the target folder's real path instead of the symlink (e.g. ${JSON.stringify(path.resolve(path.dirname(abs), target))})`,
      details: { path: abs, target },
    });
  }
}
