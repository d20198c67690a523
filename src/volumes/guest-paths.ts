import { posix } from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { problemsToError, type VolumeProblem } from "./problems.js";

/** Guest paths that may never be a mount point themselves (the root, and /tmp: the sandbox's private tmpfs). */
export const RESERVED_GUEST_EXACT: readonly string[] = ["/", "/tmp"];

/**
 * Guest trees that may be neither mounted over nor mounted into: the sandbox runtime and the image's
 * system files live there, and a host folder at e.g. /etc/ld.so.preload would control every process.
 */
export const RESERVED_GUEST_TREES: readonly string[] = [
  "/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot",
  "/.sandbox",
];

/** Normalises an absolute guest path: `posix.normalize`, trailing slash removed (except for `/`). */
export function normalizeGuestPath(guest: string): string {
  const n = posix.normalize(guest);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** True when `child` equals `parent` or lies below it, compared whole component by component. */
export function isSameOrInside(child: string, parent: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith("/") ? parent : `${parent}/`;
  return child.startsWith(prefix);
}

/** Why a (normalised) guest path is reserved, or undefined when it is usable. */
export function reservedGuestReason(guest: string): string | undefined {
  if (RESERVED_GUEST_EXACT.includes(guest)) {
    return guest === "/"
      ? "cannot mount a volume at guest root /"
      : "/tmp is the sandbox's private tmpfs and cannot be a mount point";
  }
  const tree = RESERVED_GUEST_TREES.find((t) => isSameOrInside(guest, t));
  if (tree) return `guest path ${guest} is inside the reserved system folder ${tree}`;
  return undefined;
}

/** An entry to check: its guest path plus where it came from (for messages). */
export interface GuestEntry {
  guest: string;
  index?: number;
  source?: string;
}

/** Reserved, duplicate and nested guest paths, as problems (does not throw). */
export function guestPathProblems(vols: readonly GuestEntry[]): VolumeProblem[] {
  const problems: VolumeProblem[] = [];
  const seen: { guest: string; index: number }[] = [];
  vols.forEach((v, pos) => {
    const index = v.index ?? pos;
    const source = v.source ?? v.guest;
    const guest = normalizeGuestPath(v.guest);
    const reason = reservedGuestReason(guest);
    if (reason) {
      problems.push({
        index, source, code: ErrorCodes.INVALID_VOLUME, message: reason,
        hint: "mount at a path of its own such as /workspace, /data or /home/<user>/<name>",
      });
      return;
    }
    for (const other of seen) {
      if (other.guest === guest) {
        problems.push({
          index, source, code: ErrorCodes.INVALID_VOLUME,
          message: `duplicate guest path ${guest}: volumes[${other.index}] already mounts there`,
          hint: "give each volume its own guest path, or remove one of them",
        });
        return;
      }
      if (isSameOrInside(guest, other.guest) || isSameOrInside(other.guest, guest)) {
        problems.push({
          index, source, code: ErrorCodes.INVALID_VOLUME,
          message: `Conflicting guest paths: '${other.guest}' (volumes[${other.index}]) and '${guest}' overlap`,
          hint: "use guest paths that are not inside each other, e.g. /app and /data instead of /app and /app/data",
        });
        return;
      }
    }
    seen.push({ guest, index });
  });
  return problems;
}

/**
 * Refuses duplicate guest paths, nested ones (component-wise: /app vs /app/data conflict, /app vs /apple
 * do not) and reserved ones (/, /tmp, /proc, /sys, /dev, /etc, /usr, …). Throws one VolumeSpecError
 * listing every problem.
 */
export function validateGuestPaths(vols: readonly { guest: string }[]): void {
  const problems = guestPathProblems(vols);
  if (problems.length > 0) throw problemsToError(problems);
}
