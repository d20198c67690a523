import {
  canonicalDenied,
  checkHostPath,
  normalizeGuestPath,
  parseVolumeList,
  readonlyOverlapProblems,
  workdirIssue,
  type HostPathPolicy,
} from "../../volumes/index.js";
import type { RuntimeVolume } from "../runtime/types.js";
import { validationError } from "../protocol/json-rpc.js";

/**
 * What the server lets sandboxes mount. `protectedPaths` (its runtime state `.menv`, the Sandboxfile,
 * the signing key) are never mountable, nor is any folder containing one; `allowedRoots` bound every
 * host path (default: the project dir). All canonical.
 */
export interface ServerStatePaths {
  /** Canonical project dir: relative host paths resolve against it (legacy rule, PR #220). */
  projectDir: string;
  protectedPaths: readonly string[];
  /** Canonical folders under which host paths may be mounted. */
  allowedRoots: readonly string[];
}

/** The server's host-path policy: the client's rules (src/volumes/host-policy.ts) with the server's roots. */
export function serverHostPolicy(state: ServerStatePaths): HostPathPolicy {
  return {
    baseDir: state.projectDir,
    allowedRoots: state.allowedRoots,
    explicitlyAllowed: [],
    extraDenied: state.protectedPaths,
    // Its default project dir lives in ~/.microsandbox; its own state is listed in protectedPaths.
    denyMicrosandboxHome: false,
  };
}

/**
 * The trust-boundary check of one `sandbox.start` config (or a Sandboxfile entry read back): the
 * volume strings with the same rules as the client (src/volumes), `readonly_volumes` naming mounted
 * guests, and the workdir. Returns the volumes ready for the runtime, or throws 400/2001 naming the
 * entry and the reason code. Called once per request; `mustExist` requires the host folders to exist.
 */
export async function checkStartVolumes(
  config: { volumes: readonly string[]; readonly_volumes: readonly string[]; workdir?: string | undefined },
  state: ServerStatePaths,
  opts: { mustExist: boolean },
): Promise<RuntimeVolume[]> {
  const { parsed, problems } = parseVolumeList(config.volumes);
  const first = problems[0];
  if (first) {
    throw validationError(`Invalid volume '${first.source}' in config.volumes[${first.index}]: ${first.message} (${first.code})`);
  }
  const guests = new Set(parsed.map(({ v }) => v.guest));
  const readonly = new Set<string>();
  config.readonly_volumes.forEach((g, i) => {
    const guest = normalizeGuestPath(g);
    if (!guests.has(guest)) {
      throw validationError(`Invalid readonly_volumes[${i}] '${g}': no volume is mounted at that guest path`);
    }
    readonly.add(guest);
  });
  if (config.workdir !== undefined) {
    const issue = workdirIssue(config.workdir);
    if (issue) throw validationError(`Invalid workdir: ${issue}`);
  }
  const policy = serverHostPolicy(state);
  const denied = await canonicalDenied(policy.extraDenied, { microsandboxHome: false });
  const out: RuntimeVolume[] = [];
  for (const { v, index } of parsed) {
    const r = await checkHostPath(v.host, policy, denied, opts);
    if ("code" in r) throw validationError(`Invalid volume '${v.source}' in config.volumes[${index}]: ${r.message} (${r.code})`);
    out.push({ host: r.host, guest: v.guest, readonly: readonly.has(v.guest) });
  }
  const overlap = readonlyOverlapProblems(
    // `out` was built from `parsed` one to one, in order.
    out.map((vol, i) => ({
      index: parsed[i]?.index ?? i,
      source: parsed[i]?.v.source ?? vol.guest,
      host: vol.host,
      readonly: vol.readonly === true,
    })),
  )[0];
  if (overlap) throw validationError(`Invalid volume '${overlap.source}' in config.volumes[${overlap.index}]: ${overlap.message} (${overlap.code})`);
  return out;
}
