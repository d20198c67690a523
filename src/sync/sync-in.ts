import type { SandboxBackend } from "../backend/backend.js";
import type { FileChannel } from "../backend/file-channel.js";
import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import { SyncConflictError } from "./sync-conflict-error.js";
import { MsbvError } from "../errors/msbv-error.js";
import { Workspace } from "../workspace/index.js";
import { packArchiveParts, type PackEntry } from "./archive.js";
import { planIn, type InPlan, type TreeListing } from "./diff.js";
import { channelUpload, fileChannelOf } from "./file-channel-transfer.js";
import { listGuest } from "./guest-listing.js";
import { emptyReport } from "./report.js";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";
import { newScratchPath, uploadNames } from "./scratch.js";
import { loadSyncSession, saveSyncState } from "./state-file.js";
import { PRELUDE, sha256, upload } from "./transfer.js";
import type { SyncOptions, SyncReport, SyncSession, SyncVolume, VolumeState } from "./types.js";

// One step in the sandbox per volume after the uploads: verify both uploads, remove what the host no
// longer has, make the guest folder, unpack. `-` stands for "nothing of this kind".
const APPLY_SCRIPT = `${PRELUDE}d=$1; rml=$2; rmsha=$3; ar=$4; arsha=$5
mkdir -p "$d"
if [ "$rml" != - ]; then check "$rml" "$rmsha"; (cd "$d" && xargs -0 rm -rf -- < "$rml"); rm -f "$rml"; fi
if [ "$ar" != - ]; then check "$ar" "$arsha"; tar -x -f "$ar" -C "$d" --no-same-owner; rm -f "$ar"; fi
`;

// Large files skip the archive on a raw (uncompressed, i.e. loopback) file channel: each is streamed from
// the host file to its own path, verified in the sandbox before it appears there with its mode and mtime.
// That spares the sandbox writing the bytes into the archive and unpacking them again, and the host
// holding them: the file is hashed in one pass and sent in a second, both through one reused buffer
// (fresh memory is what costs most here, docs/benchmarks.md). Should the file change between the two
// passes, the sandbox's SHA-256 check refuses the upload. The archive still carries everything else.
const DIRECT_BYTES = 8 * 1024 * 1024;

/** A host file sent on its own (see DIRECT_BYTES): what was hashed, not the bytes. */
interface DirectFile {
  path: string;
  size: number;
  sha256: string;
  mode: number;
  mtimeMs: number;
}

interface VolumePlan {
  volume: SyncVolume;
  ws: Workspace;
  state: VolumeState;
  plan: InPlan;
  /** The guest folder existed at the listing (else the apply step makes it). */
  guestExists: boolean;
  pack: PackEntry[];
  /** Files sent on their own, and the channel they go through. */
  direct: { channel: FileChannel; files: DirectFile[] } | undefined;
}

/**
 * Copies host folders into a started sandbox through its command API: for each volume, the guest
 * folder is made to mirror the host folder (files the guest already holds with the same SHA-256 are not
 * sent; guest files the host lacks are removed), in one archive (through the file channel or in ≤ 1 MiB chunks, src/sync/README.md#channel) checked
 * before it is unpacked. Host files are read once through a symlink-safe {@link Workspace}; host
 * symlinks and special files are not synced (`inReport.skipped`). Every volume is planned before any
 * is changed: if the guest holds sandbox changes that were never synced back (compared with the state
 * recorded under `options.stateDir`), nothing is changed and SyncConflictError is thrown, unless
 * `options.overwriteGuest`. The returned session records what was sent, for {@link syncBack}.
 * @throws SyncConflictError (MSBV_SYNC_CONFLICT, reason `sandbox-not-synced-back`); SyncError (MSBV_SYNC_FAILED) naming the failed step.
 */
export async function syncIn(
  backend: SandboxBackend,
  sandboxName: string,
  volumes: readonly SyncVolume[],
  options: SyncOptions = {},
): Promise<SyncSession> {
  const target: SandboxTarget = { backend, name: sandboxName, options };
  const scratch = newScratchPath();
  const report = emptyReport();
  let session: SyncSession;
  try {
    const previous = options.stateDir ? await loadSyncSession(options.stateDir, sandboxName) : undefined;
    const plans: VolumePlan[] = [];
    for (const volume of volumes) {
      const baseline = previous?.volumes.find((v) => v.volume.host === volume.host && v.volume.guest === volume.guest)?.state;
      plans.push(await planVolume(target, volume, scratch, report, baseline));
    }
    const unsynced = plans.flatMap((p) => p.plan.unsynced.map((path) => ({ host: p.volume.host, path, reason: "sandbox-not-synced-back" as const })));
    if (unsynced.length > 0 && options.overwriteGuest !== true) {
      report.conflicts.push(...unsynced);
      const list = unsynced
        .slice(0, 20)
        .map((c) => `  ${c.path} (host folder ${c.host})`)
        .join("\n");
      throw new SyncConflictError(
        `Sync-in to sandbox "${sandboxName}" stopped before changing anything: ${unsynced.length} file(s) in its guest folders hold changes that were never synced back, and copy-in would overwrite or delete them:\n${list}`,
        report,
        {
          hint: "bring them home first (`syncBack(backend, await loadSyncSession(projectDir, name))`, or stop the session that started the sandbox), or pass overwriteGuest: true to discard them",
          details: { report },
        },
      );
    }
    for (const p of plans) await applyVolume(target, p, scratch, report);
    const synced = plans.map(({ volume, state }) => ({ volume, state }));
    session = { sandboxName, scratch, volumes: synced, inReport: report, ...(options.stateDir ? { stateDir: options.stateDir } : {}) };
    if (options.stateDir) await saveSyncState(options.stateDir, session);
  } catch (err) {
    throw asSyncError(err, `Sync-in to sandbox "${sandboxName}" failed`, "nothing on the host was changed; fix the cause and start again");
  }
  return session;
}

async function planVolume(
  target: SandboxTarget,
  volume: SyncVolume,
  scratch: string,
  report: SyncReport,
  baseline: VolumeState | undefined,
): Promise<VolumePlan> {
  const ws = await Workspace.open(volume.host);
  const channel = await fileChannelOf(target);
  const goesDirect = (size: number) => channel !== undefined && !channel.compress && size >= DIRECT_BYTES && size <= channel.maxBytes;
  // The guest's listing (a command in the sandbox, which hashes its files) and the host's own reading
  // and hashing run side by side; only the comparison needs both.
  const [listed, items] = await Promise.all([listGuest(target, volume.guest, `${scratch}/list`), readHostTree(ws, goesDirect)]);
  const guest: TreeListing = listed ?? { files: new Map(), dirs: new Set(), others: new Set() };
  const state: VolumeState = { files: new Map(), dirs: new Set() };
  const host: TreeListing = { files: new Map(), dirs: state.dirs, others: new Set() };
  const pack: PackEntry[] = [];
  const direct: DirectFile[] = [];
  for (const item of items) {
    if (item.kind === "directory") {
      state.dirs.add(item.path);
      if (!guest.dirs.has(item.path)) pack.push({ path: item.path, type: "Directory", mode: item.mode, mtime: new Date(item.mtimeMs) });
    } else if (item.kind === "other") {
      report.skipped.push(`${volume.host}/${item.path}`);
    } else {
      state.files.set(item.path, { sha256: item.sha256, size: item.size });
      host.files.set(item.path, item.sha256);
      if (guest.files.get(item.path) === item.sha256) continue;
      if (item.data) pack.push({ path: item.path, type: "File", mode: item.mode, mtime: new Date(item.mtimeMs), data: item.data });
      else direct.push({ path: item.path, size: item.size, sha256: item.sha256, mode: item.mode, mtimeMs: item.mtimeMs });
    }
  }
  const sendDirect = channel && direct.length > 0 ? { channel, files: direct } : undefined;
  return { volume, ws, state, plan: planIn(host, guest, baseline), guestExists: listed !== undefined, pack, direct: sendDirect };
}

/** One entry of the host folder as read for a sync-in; a file without `data` is sent on its own (DIRECT_BYTES). */
type HostItem =
  | { kind: "directory"; path: string; mode: number; mtimeMs: number }
  | { kind: "other"; path: string }
  | { kind: "file"; path: string; mode: number; mtimeMs: number; sha256: string; size: number; data?: Buffer };

/** Reads and hashes the host folder, in path order; files that vanish meanwhile are left out. */
async function readHostTree(ws: Workspace, goesDirect: (size: number) => boolean): Promise<HostItem[]> {
  const items: HostItem[] = [];
  for (const e of await ws.list(".", { recursive: true })) {
    if (e.type === "directory") items.push({ kind: "directory", path: e.path, mode: e.mode, mtimeMs: e.mtimeMs });
    else if (e.type !== "file") items.push({ kind: "other", path: e.path });
    else if (goesDirect(e.size)) {
      const d = await ws.digest(e.path).catch((err: unknown) => (isGone(err) ? undefined : Promise.reject(err)));
      if (d) items.push({ kind: "file", path: e.path, mode: d.mode, mtimeMs: d.mtimeMs, sha256: d.sha256, size: d.size });
    } else {
      // Read once: the bytes hashed are the bytes sent, even if the file changes meanwhile.
      const data = await ws.read(e.path).catch((err: unknown) => (isGone(err) ? undefined : Promise.reject(err)));
      if (data) items.push({ kind: "file", path: e.path, mode: e.mode, mtimeMs: e.mtimeMs, sha256: sha256(data), size: data.length, data });
    }
  }
  return items;
}

async function applyVolume(
  target: SandboxTarget,
  { volume, ws, plan, guestExists, pack, direct }: VolumePlan,
  scratch: string,
  report: SyncReport,
): Promise<void> {
  const args = [volume.guest, "-", "-", "-", "-"];
  if (plan.remove.length > 0) {
    const { check: sum } = await uploadNames(target, `removal list for ${volume.guest}`, plan.remove, `${scratch}/rm`);
    args.splice(1, 2, `${scratch}/rm`, sum);
  }
  if (pack.length > 0) {
    const archive = packArchiveParts(pack);
    const { check: sum } = await upload(target, `archive for ${volume.guest}`, archive, `${scratch}/in.tar`);
    args.splice(3, 2, `${scratch}/in.tar`, sum);
    report.archiveBytes += archive.reduce((n, part) => n + part.length, 0);
  }
  const sent = direct?.files ?? [];
  // Nothing to remove or unpack: one command less. A missing guest folder is then made by the first
  // file sent on its own (its only missing parent: any host subfolder would be in the archive), or
  // by the apply step when there is no such file (an empty host folder is mirrored too).
  if (args.some((a, i) => i > 0 && a !== "-") || (!guestExists && sent.length === 0)) {
    await runScript(target, `unpacking into ${volume.guest}`, APPLY_SCRIPT, args);
  }
  // After the unpack: the removals are done and the folders the files go in exist.
  if (direct) for (const f of sent) await streamUpload(target, direct.channel, ws, `${volume.guest}/${f.path}`, f, !guestExists);
  const files = pack.filter((p) => p.type === "File");
  report.filesTransferred += files.length + sent.length;
  report.bytesTransferred += files.reduce((n, f) => n + (f.data?.length ?? 0), 0) + sent.reduce((n, f) => n + f.size, 0);
  report.filesUnchanged += plan.unchanged;
  report.filesDeleted += plan.deleted;
}

/** Streams one host file to `remote` through the file channel (see DIRECT_BYTES). */
async function streamUpload(
  target: SandboxTarget,
  channel: FileChannel,
  ws: Workspace,
  remote: string,
  f: DirectFile,
  createParents: boolean,
): Promise<void> {
  const body = { size: f.size, produce: (write: (piece: Uint8Array) => Promise<void>) => ws.readEach(f.path, f.size, write).then(() => undefined) };
  await channelUpload(target, channel, `file ${remote}`, body, f.sha256, remote, {
    mode: f.mode,
    mtimeMs: f.mtimeMs,
    ...(createParents ? { createParents } : {}),
  });
}

function isGone(err: unknown): boolean {
  return err instanceof MsbvError && err.code === ErrorCodes.WORKSPACE_NOT_FOUND;
}

/** Keeps SyncErrors as they are; wraps anything else (workspace, transport) with what was being done. */
export function asSyncError(err: unknown, what: string, hint: string): SyncError {
  if (err instanceof SyncError) return err;
  const detail = err instanceof Error ? err.message.split("\n")[0] : String(err);
  const code = err instanceof MsbvError ? ` (${err.code})` : "";
  return new SyncError(ErrorCodes.SYNC_FAILED, `${what}: ${detail}${code}`, { cause: err, hint });
}
