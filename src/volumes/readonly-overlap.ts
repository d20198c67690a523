import { ErrorCodes } from "../errors/codes.js";
import { isSameOrInside } from "./guest-paths.js";
import type { VolumeProblem } from "./problems.js";

/** A volume after host canonicalisation, as far as the read-only rule needs it. */
export interface HostEntry {
  index: number;
  source: string;
  /** Canonical host folder. */
  host: string;
  readonly: boolean;
}

/**
 * A read-only volume whose host folder is, or lies inside, a read-write volume's host folder is
 * writable anyway, through the read-write one (`./ws:/w` + `./ws/ref:/ref` readonly: `/w/ref` is the
 * same folder, read-write). Refused, so that "read-only" holds; mount the read-only folder outside
 * the writable one. (A read-write folder inside a read-only one is what the caller asked for.)
 */
export function readonlyOverlapProblems(vols: readonly HostEntry[]): VolumeProblem[] {
  const problems: VolumeProblem[] = [];
  for (const ro of vols.filter((v) => v.readonly)) {
    const rw = vols.find((v) => !v.readonly && isSameOrInside(ro.host, v.host));
    if (!rw) continue;
    problems.push({
      index: ro.index,
      source: ro.source,
      code: ErrorCodes.INVALID_VOLUME,
      message: `read-only host folder "${ro.host}" is inside the read-write volume ${JSON.stringify(rw.source)}, so the sandbox could write it there`,
      hint: "move the read-only folder out of the writable one, or mount it read-write knowingly",
    });
  }
  return problems;
}
