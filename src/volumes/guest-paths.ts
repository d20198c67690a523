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
  "/proc",
  "/sys",
  "/dev",
  "/etc",
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/boot",
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
    return guest === "/" ? "cannot mount a volume at guest root /" : "/tmp is the sandbox's private tmpfs and cannot be a mount point";
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

/**
 * Reserved and duplicate guest paths, as problems (does not throw). Nested guest paths (`/w` and
 * `/w/skills`) are allowed, like Docker: the runtime mounts parents first.
 */
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
        index,
        source,
        code: ErrorCodes.INVALID_VOLUME,
        message: reason,
        hint: "mount at a path of its own such as /workspace, /data or /home/<user>/<name>",
      });
      return;
    }
    const other = seen.find((o) => o.guest === guest);
    if (other) {
      problems.push({
        index,
        source,
        code: ErrorCodes.INVALID_VOLUME,
        message: `duplicate guest path ${guest}: volumes[${other.index}] already mounts there`,
        hint: "give each volume its own guest path, or remove one of them",
      });
      return;
    }
    seen.push({ guest, index });
  });
  return problems;
}

/** Parents before children, so a volume nested in another is mounted on top of it (stable otherwise). */
export function mountOrder<T extends { guest: string }>(vols: readonly T[]): T[] {
  const depth = (g: string) => g.split("/").filter(Boolean).length;
  return [...vols].sort((a, b) => depth(a.guest) - depth(b.guest));
}

/**
 * Why a working directory is unusable, or undefined. Same guest rules as mount points: absolute, no
 * `..`, no control characters, not inside a reserved system tree (a workdir is created when missing,
 * and `/../x` would name a folder outside the sandbox root while it is being built).
 */
export function workdirIssue(workdir: string): string | undefined {
  if (!workdir.startsWith("/")) return `workdir "${workdir}" must be an absolute path`;
  if (workdir.split("/").includes("..")) return `workdir "${workdir}" must not contain ".."`;
  if (/[:\0\r\n]/.test(workdir)) return `workdir "${workdir}" must not contain ":" or control characters`;
  const normal = normalizeGuestPath(workdir);
  const tree = RESERVED_GUEST_TREES.find((t) => isSameOrInside(normal, t));
  if (tree) return `workdir "${workdir}" is inside the reserved system folder ${tree}`;
  return undefined;
}

/**
 * Refuses duplicate guest paths and reserved ones (/, /tmp, /proc, /sys, /dev, /etc, /usr, …); nesting is
 * allowed. Throws one VolumeSpecError listing every problem.
 */
export function validateGuestPaths(vols: readonly { guest: string }[]): void {
  const problems = guestPathProblems(vols);
  if (problems.length > 0) throw problemsToError(problems);
}
