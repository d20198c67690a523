import { mkdir, realpath } from "node:fs/promises";
import { ErrorCodes } from "../errors/codes.js";
import { guestPathProblems } from "./guest-paths.js";
import { checkHostPath } from "./host-check.js";
import { readonlyOverlapProblems } from "./readonly-overlap.js";
import { canonicalDenied, type DeniedEntry } from "./host-policy.js";
import { tryParseVolumeSpec } from "./parse-spec.js";
import { problemsToError, type VolumeProblem } from "./problems.js";
import type { HostPathPolicy, ParsedVolume, ResolveVolumesOptions, ResolvedVolume, VolumeSpec } from "./types.js";

/**
 * The legacy wire string `"host:guest"`. Paths never contain ':' (refused earlier), so it round-trips
 * through {@link parseWireVolume}. `readonly` cannot be carried: the wire has no options segment.
 */
export function toVolumeString(v: { host: string; guest: string }): string {
  return `${v.host}:${v.guest}`;
}

/** Inverse of {@link toVolumeString}: the same parser as every other form (legacy PathPair rule). */
export function parseWireVolume(spec: string, index: number): ParsedVolume | VolumeProblem {
  return tryParseVolumeSpec(spec, index);
}

type ParsedList = { parsed: { v: ParsedVolume; index: number }[]; problems: VolumeProblem[] };

function parseEach(specs: readonly unknown[]): ParsedList {
  const problems: VolumeProblem[] = [];
  const parsed: { v: ParsedVolume; index: number }[] = [];
  specs.forEach((spec, index) => {
    const r = tryParseVolumeSpec(spec, index);
    if ("code" in r) problems.push(r);
    else parsed.push({ v: r, index });
  });
  return { parsed, problems };
}

/** Parses a list of specs and applies the guest rules (reserved, duplicate): one pass, every problem. */
export function parseVolumeList(specs: readonly unknown[]): ParsedList {
  const { parsed, problems } = parseEach(specs);
  problems.push(...guestPathProblems(parsed.map(({ v, index }) => ({ guest: v.guest, index, source: v.source }))));
  return { parsed, problems: sortProblems(problems) };
}

interface Planned {
  parsed: ParsedVolume;
  index: number;
  host: string;
  create: boolean;
}

async function planHost(
  v: ParsedVolume,
  index: number,
  policy: HostPathPolicy,
  opts: ResolveVolumesOptions,
  denied: readonly DeniedEntry[],
): Promise<Planned | VolumeProblem> {
  const create = v.create || opts.createMissing === true;
  const r = await checkHostPath(v.host, policy, denied, { mustExist: !create });
  if ("code" in r) return { index, source: v.source, ...r };
  return { parsed: v, index, host: r.host, create: !r.exists };
}

/**
 * Parses, validates and canonicalises every volume: syntax, guest rules, readonly support, host
 * canonicalisation, existence, folder-ness and the host-path policy. Every problem is gathered and thrown
 * as one error (spec problems first, then host problems). Missing folders are created only after all of
 * that passed, so a refused call changes nothing on disk. Relative host paths resolve against
 * `policy.baseDir`; a leading `~/` is expanded to the home folder (upstream does not expand `~`).
 */
export async function resolveVolumes(specs: readonly VolumeSpec[], policy: HostPathPolicy, opts: ResolveVolumesOptions): Promise<ResolvedVolume[]> {
  const { parsed, problems } = parseEach(specs);
  return resolveParsedVolumes(parsed, problems, policy, opts);
}

/**
 * {@link resolveVolumes} for specs a caller already parsed (once): `parsed` in mount-list order with
 * their positions, `problems` the parse problems found meanwhile. Guest rules run here, on the list.
 */
export async function resolveParsedVolumes(
  parsedIn: readonly { v: ParsedVolume; index: number }[],
  parseProblems: readonly VolumeProblem[],
  policy: HostPathPolicy,
  opts: ResolveVolumesOptions,
): Promise<ResolvedVolume[]> {
  const parsed = [...parsedIn];
  const problems = [...parseProblems, ...guestPathProblems(parsed.map(({ v, index }) => ({ guest: v.guest, index, source: v.source })))];
  if (problems.length > 0) throw problemsToError(sortProblems(problems));

  const ro = parsed.filter(({ v }) => v.readonly);
  const supported = async () => (typeof opts.readonlySupported === "function" ? await opts.readonlySupported() : opts.readonlySupported);
  if (ro.length > 0 && !(await supported())) {
    throw problemsToError(
      ro.map(({ v, index }) => ({
        index,
        source: v.source,
        code: ErrorCodes.READONLY_UNSUPPORTED,
        message: "readonly was requested, but this server does not advertise read-only mounts (a legacy microsandbox server would mount read-write)",
        hint: "use the msbv dev server (msbv dev-server), which enforces it, or drop readonly",
      })),
    );
  }

  const denied = await canonicalDenied(policy.extraDenied, { microsandboxHome: policy.denyMicrosandboxHome ?? true });
  const planned: Planned[] = [];
  for (const { v, index } of parsed) {
    const r = await planHost(v, index, policy, opts, denied);
    if ("code" in r) problems.push(r);
    else planned.push(r);
  }
  if (problems.length > 0) throw problemsToError(sortProblems(problems));
  const overlap = readonlyOverlapProblems(
    planned.map((p) => ({ index: p.index, source: p.parsed.source, host: p.host, readonly: p.parsed.readonly })),
  );
  if (overlap.length > 0) throw problemsToError(overlap);

  for (const p of planned.filter((x) => x.create && !opts.dryRun)) {
    await mkdir(p.host, { recursive: true });
    // A symlink planted between the check and the mkdir would make the folder land elsewhere.
    const real = await realpath(p.host);
    if (real !== p.host) {
      throw problemsToError([
        {
          index: p.index,
          source: p.parsed.source,
          code: ErrorCodes.HOST_PATH_DENIED,
          message: `host folder "${p.host}" resolved to "${real}" after it was created (a symlink appeared on the way)`,
          hint: "remove the symlink from the host path and try again",
        },
      ]);
    }
  }
  return planned.map((p) => ({ host: p.host, guest: p.parsed.guest, readonly: p.parsed.readonly }));
}

function sortProblems(problems: VolumeProblem[]): VolumeProblem[] {
  const rank = (p: VolumeProblem) => (p.code === ErrorCodes.INVALID_VOLUME ? 0 : p.code === ErrorCodes.HOST_PATH_DENIED ? 1 : 2);
  return [...problems].sort((a, b) => rank(a) - rank(b) || a.index - b.index);
}
