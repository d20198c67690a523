import { lstat, realpath, stat } from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes, type ErrorCode } from "../errors/codes.js";
import { isMsbvError } from "../errors/msbv-error.js";
import { canonicalizePath, expandHome, realpathLongestPrefix, refuseSymlinkLeaf } from "./canonicalize.js";
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
 * (the final component is judged by canonicalizePath, which names the link's target). Folders under a root can be mounted, so a sandbox can plant links
 * there (`ws/data -> ../../etc`) that would choose what a later start mounts. Links above the root
 * (e.g. /tmp -> /private/tmp) are the machine's and are resolved as usual.
 */
export async function symlinkBelowRoot(written: string, roots: readonly string[]): Promise<string | undefined> {
  const root = roots.find((r) => written !== r && isSameOrInside(written, r));
  if (!root) return undefined;
  let current = root;
  for (const part of path.relative(root, written).split(path.sep).slice(0, -1)) {
    current = path.join(current, part);
    const st = await lstat(current).catch(() => undefined);
    if (!st) return undefined; // the rest does not exist yet: nothing there to follow
    if (st.isSymbolicLink()) return current;
  }
  return undefined;
}

/**
 * `written` spelled under an allowed root, when one of its ancestors is (through machine symlinks)
 * exactly that root; undefined otherwise. Only ancestors are resolved, never the rest of the path.
 */
async function respellUnderRoot(written: string, roots: readonly string[]): Promise<string | undefined> {
  const rest: string[] = [];
  let current = written;
  for (;;) {
    const real = await realpath(current).catch(() => undefined);
    const root = real === undefined ? undefined : roots.find((r) => r === real);
    if (root !== undefined) return path.join(root, ...rest.reverse());
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    rest.push(path.basename(current));
    current = parent;
  }
}

const outsideHint = (p: string) =>
  "mount a folder inside the project, or allow this exact path: add " +
  JSON.stringify(p) +
  " to `allow` under " +
  "[policy] in microsandbox.toml or pass it in the allowHostPaths option (a dev server also needs a root " +
  "that contains it: `msbv dev-server --allow-root DIR`)";

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
  let written = path.resolve(policy.baseDir, expandHome(host));
  const lexical = hostPolicyViolation(written, { ...policy, allowedRoots: ["/"] }, denied);
  if (lexical) return issue(ErrorCodes.HOST_PATH_DENIED, lexical.message, lexical.hint);
  const insideRoot = policy.allowedRoots.some((r) => isSameOrInside(written, r));
  if (!insideRoot && !policy.explicitlyAllowed.includes(written)) {
    // A machine symlink above the root may spell the same folder (macOS /var -> /private/var): then
    // continue with the root's spelling. Nothing else outside is looked at, so the answer for any
    // other outside path is the same whether it exists or not.
    const respelled = await respellUnderRoot(written, policy.allowedRoots);
    const allowed =
      respelled === undefined && policy.explicitlyAllowed.length > 0
        ? await realpathLongestPrefix(written).then(
            (c) => policy.explicitlyAllowed.includes(c),
            () => false,
          )
        : false;
    if (respelled === undefined && !allowed) {
      return issue(
        ErrorCodes.HOST_PATH_DENIED,
        `host path "${written}" is outside the allowed roots (${policy.allowedRoots.join(", ") || "none"})`,
        outsideHint(written),
      );
    }
    if (respelled !== undefined) written = respelled;
  }
  const planted = policy.explicitlyAllowed.includes(written) ? undefined : await symlinkBelowRoot(written, policy.allowedRoots);
  if (planted) {
    return issue(
      ErrorCodes.HOST_PATH_DENIED,
      `host path "${written}" goes through the symlink "${planted}" inside an allowed root; a sandbox may have planted it`,
      "use the real folder's path (mount sources never follow links inside a mountable folder)",
    );
  }
  // Below a root nothing is resolved by name: the walk above found no symlink, so `written` (roots are
  // canonical) already is the real path. Resolving it again (realpath) would follow a symlink that a
  // sandbox sharing the tree swapped in after the walk (RENAME_EXCHANGE in a loop), and the checked
  // answer would be the folder the sandbox chose. The runtime opens `written` without following any
  // link, so a swap after this point is refused there.
  const belowRoot = !policy.explicitlyAllowed.includes(written) && policy.allowedRoots.some((r) => isSameOrInside(written, r));
  let canonical: string;
  try {
    if (belowRoot) {
      await refuseSymlinkLeaf(written);
      canonical = written;
    } else {
      canonical = await canonicalizePath(written);
    }
  } catch (e) {
    if (isMsbvError(e)) return issue(e.code, e.message.split("\n")[0] ?? e.message, e.hint ?? "use the folder's real path");
    throw e;
  }
  if (/[:\0\n\r]/.test(canonical)) {
    return issue(
      ErrorCodes.HOST_PATH_INVALID,
      `canonical host path "${canonical}" contains ':' or a control character, which "host:guest" cannot carry`,
      "rename or move the folder, or mount a parent folder whose path has no ':'",
    );
  }
  const violation = hostPolicyViolation(canonical, policy, denied);
  if (violation) return issue(ErrorCodes.HOST_PATH_DENIED, violation.message, violation.hint);
  const st = await statOrUndefined(canonical);
  if (!st && opts.mustExist) {
    return issue(
      ErrorCodes.HOST_PATH_INVALID,
      `host folder "${canonical}" does not exist`,
      "create the folder first, or set create: true on the volume to have it created",
    );
  }
  if (st && !st.isDirectory()) {
    return issue(
      ErrorCodes.HOST_PATH_INVALID,
      `host path "${canonical}" is a file, not a folder (only folders can be mounted)`,
      "mount the folder that contains it",
    );
  }
  return { host: canonical, exists: st !== undefined };
}
