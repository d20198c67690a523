import { lstat, mkdir, realpath, stat } from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { isMsbvError } from "../errors/msbv-error.js";
import { canonicalizePath, expandHome } from "./canonicalize.js";
import { guestPathProblems, isSameOrInside } from "./guest-paths.js";
import { canonicalDenied, hostPolicyViolation } from "./host-policy.js";
import { tryParseVolumeSpec } from "./parse-spec.js";
import { problemsToError, type VolumeProblem } from "./problems.js";
import type { HostPathPolicy, ParsedVolume, ResolveVolumesOptions, ResolvedVolume, VolumeSpec } from "./types.js";

/** `"host:guest"` for the wire. Paths never contain ':' (refused earlier), so the string round-trips. */
export function toVolumeString(v: ResolvedVolume): string {
  return `${v.host}:${v.guest}`;
}

interface Planned {
  parsed: ParsedVolume;
  index: number;
  host: string;
  create: boolean;
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
 * The first symlink among the components of `written` that lie below one of the allowed roots. Folders
 * under the project can be mounted, so a sandbox can plant links there (`ws/build -> ..`) that would
 * choose what a later start mounts. Links above the root (e.g. /tmp -> /private/tmp) are the machine's,
 * and are resolved as usual; the final component is checked by canonicalizePath.
 */
async function symlinkInsideRoots(written: string, roots: readonly string[]): Promise<string | undefined> {
  const root = roots.find((r) => written !== r && isSameOrInside(written, r));
  if (!root) return undefined;
  const parts = path.relative(root, written).split(path.sep);
  let current = root;
  for (const part of parts.slice(0, -1)) {
    current = path.join(current, part);
    const st = await lstat(current).catch(() => undefined);
    if (!st) return undefined; // the rest does not exist yet: nothing there to follow
    if (st.isSymbolicLink()) return current;
  }
  return undefined;
}

async function planHost(
  v: ParsedVolume, index: number, policy: HostPathPolicy, opts: ResolveVolumesOptions,
  denied: Awaited<ReturnType<typeof canonicalDenied>>,
): Promise<Planned | VolumeProblem> {
  const problem = (code: VolumeProblem["code"], message: string, hint: string): VolumeProblem =>
    ({ index, source: v.source, code, message, hint });
  const written = path.resolve(policy.baseDir, expandHome(v.host));
  let host: string;
  try {
    host = await canonicalizePath(written);
  } catch (e) {
    if (isMsbvError(e)) return problem(e.code, e.message.split("\n")[0] ?? e.message, e.hint ?? "use the folder's real path");
    throw e;
  }
  if (/[:\0\n\r]/.test(host)) {
    return problem(ErrorCodes.HOST_PATH_INVALID, `canonical host path "${host}" contains ':' or a control character, which "host:guest" cannot carry`,
      "rename or move the folder, or mount a parent folder whose path has no ':'");
  }
  const violation = hostPolicyViolation(host, policy, denied);
  if (violation) return problem(ErrorCodes.HOST_PATH_DENIED, violation.message, violation.hint);
  const planted = policy.explicitlyAllowed.includes(host) ? undefined : await symlinkInsideRoots(written, policy.allowedRoots);
  if (planted) {
    return problem(ErrorCodes.HOST_PATH_DENIED,
      `host path "${written}" goes through the symlink "${planted}" inside the project; a sandbox may have planted it`,
      `use the real path ${JSON.stringify(host)} (mount sources never follow links inside a mountable folder)`);
  }
  const st = await statOrUndefined(host);
  const create = v.create || opts.createMissing === true;
  if (!st && !create) {
    return problem(ErrorCodes.HOST_PATH_INVALID, `host folder "${host}" does not exist`,
      "create the folder first, or set create: true on the volume to have it created");
  }
  if (st && !st.isDirectory()) {
    return problem(ErrorCodes.HOST_PATH_INVALID, `host path "${host}" is a file, not a folder (only folders can be mounted)`,
      "mount the folder that contains it");
  }
  return { parsed: v, index, host, create: !st };
}

/**
 * Parses, validates and canonicalises every volume: syntax, guest rules, readonly support, host
 * canonicalisation, existence, folder-ness and the host-path policy. Every problem is gathered and thrown
 * as one error (spec problems first, then host problems). Missing folders are created only after all of
 * that passed, so a refused call changes nothing on disk. Relative host paths resolve against
 * `policy.baseDir`; a leading `~/` is expanded to the home folder (upstream does not expand `~`).
 */
export async function resolveVolumes(
  specs: readonly VolumeSpec[], policy: HostPathPolicy, opts: ResolveVolumesOptions,
): Promise<ResolvedVolume[]> {
  const problems: VolumeProblem[] = [];
  const parsed: { v: ParsedVolume; index: number }[] = [];
  specs.forEach((spec, index) => {
    const r = tryParseVolumeSpec(spec, index);
    if ("code" in r) problems.push(r);
    else parsed.push({ v: r, index });
  });
  problems.push(...guestPathProblems(parsed.map(({ v, index }) => ({ guest: v.guest, index, source: v.source }))));
  if (problems.length > 0) throw problemsToError(sortProblems(problems));

  const ro = parsed.filter(({ v }) => v.readonly);
  if (ro.length > 0 && !opts.readonlySupported) {
    throw problemsToError(ro.map(({ v, index }) => ({
      index, source: v.source, code: ErrorCodes.READONLY_UNSUPPORTED,
      message: "readonly was requested, but the legacy microsandbox server cannot enforce read-only mounts (it would mount read-write)",
      hint: "drop readonly, or use the msbv dev server or the embedded backend, which enforce it",
    })));
  }

  const denied = await canonicalDenied(policy.extraDenied);
  const planned: Planned[] = [];
  for (const { v, index } of parsed) {
    const r = await planHost(v, index, policy, opts, denied);
    if ("code" in r) problems.push(r);
    else planned.push(r);
  }
  if (problems.length > 0) throw problemsToError(sortProblems(problems));

  for (const p of planned.filter((x) => x.create && !opts.dryRun)) {
    await mkdir(p.host, { recursive: true });
    // A symlink planted between the check and the mkdir would make the folder land elsewhere.
    const real = await realpath(p.host);
    if (real !== p.host) {
      throw problemsToError([{
        index: p.index, source: p.parsed.source, code: ErrorCodes.HOST_PATH_DENIED,
        message: `host folder "${p.host}" resolved to "${real}" after it was created (a symlink appeared on the way)`,
        hint: "remove the symlink from the host path and try again",
      }]);
    }
  }
  return planned.map((p) => ({ host: p.host, guest: p.parsed.guest, readonly: p.parsed.readonly }));
}

function sortProblems(problems: VolumeProblem[]): VolumeProblem[] {
  const rank = (p: VolumeProblem) => (p.code === ErrorCodes.INVALID_VOLUME ? 0 : p.code === ErrorCodes.HOST_PATH_DENIED ? 1 : 2);
  return [...problems].sort((a, b) => rank(a) - rank(b) || a.index - b.index);
}
