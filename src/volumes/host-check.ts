import { lstat, stat } from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes, type ErrorCode } from "../errors/codes.js";
import { isMsbvError } from "../errors/msbv-error.js";
import { canonicalizePath, expandHome, realpathLongestPrefix } from "./canonicalize.js";
import { isSameOrInside } from "./guest-paths.js";
import { hostPolicyViolation, type DeniedEntry } from "./host-policy.js";
import type { HostPathPolicy } from "./types.js";

/** Why a host path cannot be mounted (data: the caller wraps it in its own error type). */
export interface HostIssue {
  code: ErrorCode;
  message: string;
  hint: string;
}

/** A host path that passed every rule: canonical, and whether the folder exists yet. */
export interface CheckedHost {
  host: string;
  exists: boolean;
}

async function statOrUndefined(p: string) {
  try {
    return await stat(p);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * The first symlink among the components of `written` that lie below one of the allowed roots
 * (the final component included). Folders under a root can be mounted, so a sandbox can plant links
 * there (`ws/data -> ../../etc`) that would choose what a later start mounts. Links above the root
 * (e.g. /tmp -> /private/tmp) are the machine's and are resolved as usual.
 */
export async function symlinkBelowRoot(written: string, roots: readonly string[]): Promise<string | undefined> {
  const root = roots.find((r) => written !== r && isSameOrInside(written, r));
  if (!root) return undefined;
  let current = root;
  for (const part of path.relative(root, written).split(path.sep)) {
    current = path.join(current, part);
    const st = await lstat(current).catch(() => undefined);
    if (!st) return undefined; // the rest does not exist yet: nothing there to follow
    if (st.isSymbolicLink()) return current;
  }
  return undefined;
}

const OUTSIDE_HINT =
  "mount a folder inside an allowed root (the project folder, or a root the server was started with: " +
  "`msbv dev-server --allow-root DIR`), or allow this exact path in the client's policy";

/**
 * Every host-path rule, in the order that leaks nothing: the deny list and the allowed roots are
 * judged on the path as written (no filesystem access, so a refused outside path gets the same
 * message whether it exists or not); then, inside a root, no symlink on the way (never canonicalised
 * through), the canonical path against the policy again, and folder-ness (existence when
 * `mustExist`). Relative paths resolve against `policy.baseDir`; a leading `~/` is the home folder.
 */
export async function checkHostPath(
  host: string,
  policy: HostPathPolicy,
  denied: readonly DeniedEntry[],
  opts: { mustExist: boolean },
): Promise<CheckedHost | HostIssue> {
  const issue = (code: ErrorCode, message: string, hint: string): HostIssue => ({ code, message, hint });
  const written = path.resolve(policy.baseDir, expandHome(host));
  const lexical = hostPolicyViolation(written, { ...policy, allowedRoots: ["/"] }, denied);
  if (lexical) return issue(ErrorCodes.HOST_PATH_DENIED, lexical.message, lexical.hint);
  const insideRoot = policy.allowedRoots.some((r) => isSameOrInside(written, r));
  if (!insideRoot && !policy.explicitlyAllowed.includes(written)) {
    // Maybe a machine symlink above the root spells the same folder (or an explicitly allowed one).
    const canonical = await realpathLongestPrefix(written).catch(() => undefined);
    const reachable = canonical !== undefined &&
      (policy.explicitlyAllowed.includes(canonical) || policy.allowedRoots.some((r) => isSameOrInside(canonical, r)));
    if (!reachable) {
      return issue(ErrorCodes.HOST_PATH_DENIED,
        `host path "${written}" is outside the allowed roots (${policy.allowedRoots.join(", ") || "none"})`, OUTSIDE_HINT);
    }
  }
  const planted = policy.explicitlyAllowed.includes(written) ? undefined : await symlinkBelowRoot(written, policy.allowedRoots);
  if (planted) {
    return issue(ErrorCodes.HOST_PATH_DENIED,
      `host path "${written}" goes through the symlink "${planted}" inside an allowed root; a sandbox may have planted it`,
      "use the real folder's path (mount sources never follow links inside a mountable folder)");
  }
  let canonical: string;
  try {
    canonical = await canonicalizePath(written);
  } catch (e) {
    if (isMsbvError(e)) return issue(e.code, e.message.split("\n")[0] ?? e.message, e.hint ?? "use the folder's real path");
    throw e;
  }
  if (/[:\0\n\r]/.test(canonical)) {
    return issue(ErrorCodes.HOST_PATH_INVALID, `canonical host path "${canonical}" contains ':' or a control character, which "host:guest" cannot carry`,
      "rename or move the folder, or mount a parent folder whose path has no ':'");
  }
  const violation = hostPolicyViolation(canonical, policy, denied);
  if (violation) return issue(ErrorCodes.HOST_PATH_DENIED, violation.message, violation.hint);
  const st = await statOrUndefined(canonical);
  if (!st && opts.mustExist) {
    return issue(ErrorCodes.HOST_PATH_INVALID, `host folder "${canonical}" does not exist`,
      "create the folder first, or set create: true on the volume to have it created");
  }
  if (st && !st.isDirectory()) {
    return issue(ErrorCodes.HOST_PATH_INVALID, `host path "${canonical}" is a file, not a folder (only folders can be mounted)`,
      "mount the folder that contains it");
  }
  return { host: canonical, exists: st !== undefined };
}
