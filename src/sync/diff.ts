import type { ConflictReason, VolumeState } from "./types.js";

// The pure part of sync: which files move and which are conflicts, from three views of one folder
// (what copy-in sent, what the sandbox has now, what the host has now). No I/O here, so every rule
// is unit-tested on plain maps.

/** One side's current view of a folder: regular files by hash, folders, and everything else (links, devices). */
export interface TreeListing {
  /** Relative path → hex SHA-256. */
  files: Map<string, string>;
  dirs: Set<string>;
  /** Symlinks, FIFOs, sockets, devices: never transferred. */
  others: Set<string>;
}

/** What copy-in must do to make the guest folder mirror the host folder. */
export interface InPlan {
  /** Host files the guest lacks or has with other content. */
  send: string[];
  /** Guest entries the host does not have (as the same kind); removed before extraction. Parents only. */
  remove: string[];
  /** Guest files removed because the host does not have them. */
  deleted: number;
  unchanged: number;
  /**
   * Guest files copy-in would overwrite or delete although they differ from the last state both sides
   * agreed on (`baseline`; without one, every such file): sandbox work that was never synced back.
   */
  unsynced: string[];
}

/**
 * Copy-in: mirror `host` into the guest, sending only files whose hash differs. Guest links and special
 * files are left alone unless a host entry needs their place (they are never synced, e.g. a venv's links).
 */
export function planIn(host: TreeListing, guest: TreeListing, baseline?: VolumeState): InPlan {
  const send = sorted([...host.files].filter(([p, sha]) => guest.files.get(p) !== sha).map(([p]) => p));
  const deleted = [...guest.files.keys()].filter((p) => !host.files.has(p));
  const hostPaths = [...host.files.keys(), ...host.dirs];
  const clashes = (p: string) => hostPaths.some((h) => h === p || h.startsWith(`${p}/`));
  const stale = [...deleted, ...[...guest.dirs].filter((p) => !host.dirs.has(p)), ...[...guest.others].filter(clashes)];
  const unsynced = [...send.filter((p) => guest.files.has(p)), ...deleted].filter((p) => baseline?.files.get(p)?.sha256 !== guest.files.get(p));
  return { send, remove: topmost(stale), deleted: deleted.length, unchanged: host.files.size - send.length, unsynced: sorted(unsynced) };
}

export interface PlannedConflict {
  path: string;
  reason: ConflictReason;
  /** The sandbox has a version of the file: fetch it and keep it next to the host's as a conflict copy. */
  copy: boolean;
}

/** What copy-back must do on the host. Apply order: deletes, rmdirs (as listed), mkdirs, writes. */
export interface BackPlan {
  /** Files to fetch from the sandbox: `writes` plus conflict copies. */
  fetch: string[];
  /** Files to write on the host (the host still has the copy-in version or nothing). */
  writes: string[];
  /** Files to delete on the host (deleted in the sandbox, unchanged on the host). */
  deletes: string[];
  /** Folders created in the sandbox. */
  mkdirs: string[];
  /** Folders removed in the sandbox, deepest first; removed on the host only if empty by then. */
  rmdirs: string[];
  conflicts: PlannedConflict[];
  /** Files needing no transfer: the sandbox did not change them, or both sides hold the same content. */
  unchanged: number;
  /** Paths the sandbox turned into links or special files: left alone on the host. */
  skipped: string[];
}

/**
 * Copy-back: the sandbox's change to a file is applied only where the host still holds what copy-in
 * sent (or, for a new file, nothing). Where both sides changed it differently it is a conflict: the
 * host's version is never overwritten or deleted.
 */
export function planBack(sent: VolumeState, sandbox: TreeListing, host: TreeListing): BackPlan {
  const plan: BackPlan = { fetch: [], writes: [], deletes: [], mkdirs: [], rmdirs: [], conflicts: [], unchanged: 0, skipped: [] };
  const hostState = (p: string): string | undefined => host.files.get(p) ?? (host.dirs.has(p) || host.others.has(p) ? "\0not-a-file" : undefined);

  for (const p of sorted(new Set([...sent.files.keys(), ...sandbox.files.keys()]))) {
    const m = sent.files.get(p)?.sha256;
    const s = sandbox.files.get(p);
    if (s === undefined && sandbox.others.has(p)) {
      plan.skipped.push(p);
      continue;
    }
    const h = hostState(p);
    if (s === m || s === h) {
      plan.unchanged++;
      continue;
    }
    if (h === m) {
      if (s === undefined) plan.deletes.push(p);
      else plan.writes.push(p);
      continue;
    }
    const reason: ConflictReason =
      s === undefined
        ? "host-modified-sandbox-deleted"
        : m === undefined
          ? "both-created"
          : h === undefined
            ? "host-deleted-sandbox-modified"
            : "both-modified";
    plan.conflicts.push({ path: p, reason, copy: s !== undefined });
  }
  plan.fetch = sorted([...plan.writes, ...plan.conflicts.filter((c) => c.copy).map((c) => c.path)]);

  for (const d of sorted(sandbox.dirs)) {
    if (sent.dirs.has(d) || host.dirs.has(d)) continue;
    if (hostState(d) !== undefined) plan.conflicts.push({ path: d, reason: "both-created", copy: false });
    else plan.mkdirs.push(d);
  }
  plan.rmdirs = [...sent.dirs]
    .filter((d) => !sandbox.dirs.has(d) && !sandbox.others.has(d) && host.dirs.has(d))
    .sort((a, b) => depth(b) - depth(a) || (a < b ? 1 : -1));
  plan.skipped.push(...[...sandbox.others].filter((p) => !plan.skipped.includes(p)));
  plan.skipped.sort();
  return plan;
}

/** Drops every path that lies inside another path of the list (removing the parent removes it). */
export function topmost(paths: Iterable<string>): string[] {
  const all = sorted(new Set(paths));
  const set = new Set(all);
  return all.filter((p) => !ancestors(p).some((a) => set.has(a)));
}

function ancestors(p: string): string[] {
  const parts = p.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

function depth(p: string): number {
  return p.split("/").length;
}

function sorted<T extends string>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
