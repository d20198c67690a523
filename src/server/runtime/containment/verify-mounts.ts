import { readFileSync, readlinkSync } from "node:fs";
import { DevServerError } from "../../../errors/index.js";

// bubblewrap mounts a nested volume (/w/skills inside the volume at /w) BY PATH, following
// symlinks, inside a folder another sandbox may write: the pre-start check (volume-checks.ts) can
// be raced (docs/security.md, "nested mount point"). This check cannot: it reads the finished
// sandbox's own mount table before any user code runs, and nothing outside the sandbox can move a
// mount of that table out of the parent volume afterwards.

/** One line of /proc/<pid>/mountinfo (proc(5)); paths are as the reading pid sees them (its root). */
export interface MountEntry {
  id: number;
  parentId: number;
  /** "major:minor" of the filesystem. */
  device: string;
  /** The mounted folder's path inside its filesystem. */
  root: string;
  mountPoint: string;
}

/** The kernel escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 5) continue;
    entries.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2] ?? "",
      root: unescapeMountField(fields[3] ?? ""),
      mountPoint: unescapeMountField(fields[4] ?? ""),
    });
  }
  return entries;
}

/**
 * Throws unless every volume is mounted exactly at its guest path and no volume's mount (same
 * filesystem and folder) sits at any other mount point, e.g. /etc after a symlink was followed.
 */
export function checkVolumeMounts(sandbox: string, volumes: ReadonlyArray<{ host: string; guest: string }>, entries: readonly MountEntry[]): void {
  const fail = (volume: { host: string; guest: string }, problem: string): DevServerError =>
    new DevServerError(
      `Refusing to start sandbox "${sandbox}": its volume "${volume.host}" ${problem}; a symlink was swapped in at the mount point while the sandbox was set up, likely by another sandbox sharing the parent volume.`,
      {
        hint: "stop the sandboxes that write the parent volume's folder, remove the symlink there, and start again; do not nest a volume under a folder another running sandbox writes",
        details: { sandbox, host: volume.host, guest: volume.guest },
      },
    );
  const key = (entry: MountEntry): string => `${entry.device} ${entry.root}`;
  // Which guest paths each mounted folder may appear at (one host folder may be mounted twice).
  const allowed = new Map<string, Set<string>>();
  for (const volume of volumes) {
    // The last entry at a mount point is the topmost one, the one paths inside resolve to.
    const at = entries.filter((entry) => entry.mountPoint === volume.guest).at(-1);
    if (!at) throw fail(volume, `is not mounted at ${volume.guest} (nothing is mounted there)`);
    const points = allowed.get(key(at)) ?? new Set<string>();
    points.add(volume.guest);
    allowed.set(key(at), points);
  }
  for (const entry of entries) {
    const points = allowed.get(key(entry));
    if (!points || points.has(entry.mountPoint)) continue;
    const volume = volumes.find((v) => points.has(v.guest)) as { host: string; guest: string };
    throw fail(volume, `for ${volume.guest} is also mounted at ${entry.mountPoint}`);
  }
}

/**
 * Reads the mount table of each of `pids` (processes inside the sandbox) and applies checkVolumeMounts.
 * A table is what the process's mount namespace holds, as seen from its root: processes with the same
 * namespace and root see the same one, read once. Read synchronously: /proc answers from kernel memory,
 * and a burst of starts would otherwise queue these reads behind fsyncs in libuv's pool (proc-tree.ts).
 */
export function verifyVolumeMounts(sandbox: string, pids: readonly number[], volumes: ReadonlyArray<{ host: string; guest: string }>): void {
  const seen = new Set<string>();
  for (const pid of pids) {
    const view = `${readlinkSync(`/proc/${pid}/ns/mnt`)} ${readlinkSync(`/proc/${pid}/root`)}`;
    if (seen.has(view)) continue;
    seen.add(view);
    checkVolumeMounts(sandbox, volumes, parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, "utf8")));
  }
}
