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
 * Synchronous inside (async for its callers): a few local system calls. Through libuv's thread pool each
 * was a hand-over to a pool thread and back, and in a burst of starts those trips queued behind each
 * other and behind fsyncs (docs/benchmarks.md#scale). `known` (realpaths already read in the same
 * check) spares re-reading shared parents, as the deny list's twenty folders under $HOME do.
 */
export async function realpathLongestPrefix(p: string): Promise<string> {
  return realpathLongestPrefixSync(p);
}

/** {@link realpathLongestPrefix}, synchronously. */
export function realpathLongestPrefixSync(p: string, known?: Map<string, string>): string {
  const abs = path.resolve(p);
  const missing: string[] = [];
  let current = abs;
  for (;;) {
    let real = known?.get(current);
    if (real === undefined) {
      try {
        real = realpathSync.native(current);
        known?.set(current, real);
      } catch (e) {
        const code = errCode(e);
        if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
        if (lstatOrUndefined(current)?.isSymbolicLink()) {
          throw new HostPathError(ErrorCodes.HOST_PATH_DENIED, `host path "${abs}" goes through the dangling symlink "${current}"`, {
            hint: "point the symlink at an existing folder, or use the real folder's path",
            details: { path: abs, symlink: current },
          });
        }
        const parent = path.dirname(current);
        if (parent === current) return abs;
        missing.push(path.basename(current));
        current = parent;
        continue;
      }
    }
    return missing.length === 0 ? real : path.join(real, ...missing.reverse());
  }
}

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
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
