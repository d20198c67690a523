import type { SandboxBackend } from "../backend/backend.js";
import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import { MsbvError } from "../errors/msbv-error.js";
import { Workspace } from "../workspace/index.js";
import { packArchive, type PackEntry } from "./archive.js";
import { planIn, type TreeListing } from "./diff.js";
import { listGuest } from "./guest-listing.js";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";
import { createScratch, newScratchPath, uploadNames } from "./scratch.js";
import { PRELUDE, sha256, upload } from "./transfer.js";
import type { SyncOptions, SyncReport, SyncSession, SyncVolume, VolumeState } from "./types.js";

// One step in the sandbox per volume after the uploads: verify both uploads, remove what the host no
// longer has, make the guest folder, unpack. `-` stands for "nothing of this kind".
const APPLY_SCRIPT = `${PRELUDE}d=$1; rml=$2; rmsha=$3; ar=$4; arsha=$5
mkdir -p "$d"
if [ "$rml" != - ]; then check "$rml" "$rmsha"; (cd "$d" && xargs -0 rm -rf -- < "$rml"); rm -f "$rml"; fi
if [ "$ar" != - ]; then check "$ar" "$arsha"; tar -x -f "$ar" -C "$d" --no-same-owner; rm -f "$ar"; fi
`;

/** An empty report. */
export function emptyReport(): SyncReport {
  return { filesTransferred: 0, filesDeleted: 0, filesUnchanged: 0, bytesTransferred: 0, archiveBytes: 0, skipped: [], conflicts: [] };
}

/**
 * Copies host folders into a started sandbox through its command API: for each volume, the guest
 * folder is made to mirror the host folder (files the guest already holds with the same SHA-256 are not
 * sent; guest entries the host lacks are removed), in one archive uploaded in ≤ 1 MiB chunks and
 * checked before it is unpacked. Host files are read once through a symlink-safe {@link Workspace};
 * symlinks and special files on the host are not synced (listed in `inReport.skipped`).
 * The returned session records what was sent, for {@link syncBack}.
 * @throws SyncError (MSBV_SYNC_FAILED) naming the step and volume that failed.
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
  const synced: { volume: SyncVolume; state: VolumeState }[] = [];
  try {
    await createScratch(target, scratch);
    for (const volume of volumes) synced.push({ volume, state: await syncVolumeIn(target, volume, scratch, report) });
  } catch (err) {
    throw asSyncError(err, `Sync-in to sandbox "${sandboxName}" failed`, "nothing on the host was changed; fix the cause and start again");
  }
  return { sandboxName, scratch, volumes: synced, inReport: report };
}

async function syncVolumeIn(target: SandboxTarget, volume: SyncVolume, scratch: string, report: SyncReport): Promise<VolumeState> {
  const ws = await Workspace.open(volume.host);
  const guest: TreeListing = (await listGuest(target, volume.guest, `${scratch}/list`)) ?? { files: new Map(), dirs: new Set(), others: new Set() };
  const state: VolumeState = { files: new Map(), dirs: new Set() };
  const host: TreeListing = { files: new Map(), dirs: state.dirs, others: new Set() };
  const pack: PackEntry[] = [];
  for (const e of await ws.list(".", { recursive: true })) {
    if (e.type === "directory") {
      state.dirs.add(e.path);
      if (!guest.dirs.has(e.path)) pack.push({ path: e.path, type: "Directory", mode: e.mode, mtime: new Date(e.mtimeMs) });
    } else if (e.type !== "file") {
      report.skipped.push(`${volume.host}/${e.path}`);
    } else {
      // Read once: the bytes hashed are the bytes sent, even if the file changes meanwhile.
      const data = await ws.read(e.path).catch((err: unknown) => (isGone(err) ? undefined : Promise.reject(err)));
      if (!data) continue;
      const sha = sha256(data);
      state.files.set(e.path, { sha256: sha, size: data.length });
      host.files.set(e.path, sha);
      if (guest.files.get(e.path) !== sha) pack.push({ path: e.path, type: "File", mode: e.mode, mtime: new Date(e.mtimeMs), data });
    }
  }
  const plan = planIn(host, guest);
  const files = pack.filter((p) => p.type === "File");
  const args = [volume.guest, "-", "-", "-", "-"];
  if (plan.remove.length > 0) {
    const { sha256: sum } = await uploadNames(target, `removal list for ${volume.guest}`, plan.remove, `${scratch}/rm`);
    args.splice(1, 2, `${scratch}/rm`, sum);
  }
  if (pack.length > 0) {
    const archive = packArchive(pack);
    const { sha256: sum } = await upload(target, `archive for ${volume.guest}`, archive, `${scratch}/in.tar`);
    args.splice(3, 2, `${scratch}/in.tar`, sum);
    report.archiveBytes += archive.length;
  }
  await runScript(target, `unpacking into ${volume.guest}`, APPLY_SCRIPT, args);
  report.filesTransferred += files.length;
  report.bytesTransferred += files.reduce((n, f) => n + (f.data?.length ?? 0), 0);
  report.filesUnchanged += plan.unchanged;
  report.filesDeleted += [...guest.files.keys()].filter((p) => !host.files.has(p)).length;
  return state;
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
