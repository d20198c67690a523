import { join } from "node:path";
import type { SandboxBackend } from "../backend/backend.js";
import { ErrorCodes } from "../errors/codes.js";
import { MsbvError } from "../errors/msbv-error.js";
import { SyncError, WorkspaceError } from "../errors/errors.js";
import { SyncConflictError } from "./sync-conflict-error.js";
import { Workspace } from "../workspace/index.js";
import { type AcceptedFile, checkArchive } from "./archive-check.js";
import { readArchive } from "./archive.js";
import { planBack, type BackPlan, type TreeListing } from "./diff.js";
import { fileChannelOf } from "./file-channel-transfer.js";
import { listGuest } from "./guest-listing.js";
import { hostTree } from "./host-tree.js";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";
import { ensureScratch, removeScratch, type ScratchState, uploadNames } from "./scratch.js";
import { emptyReport } from "./report.js";
import { saveSyncState } from "./state-file.js";
import { asSyncError } from "./sync-in.js";
import { PRELUDE, downloadInto, downloadParts, reportHead, sha256 } from "./transfer.js";
import { corrupt } from "./transfer-errors.js";
import type { ManifestEntry, SyncOptions, SyncReport, SyncSession, SyncVolume, VolumeState } from "./types.js";

/** Suffix of the file holding the sandbox's version of a conflicting file, next to the host's version. */
export const CONFLICT_SUFFIX = ".sandbox-conflict";

// Exactly the listed regular files, no recursion; names come NUL-separated and verbatim (a name starting
// with '-' is not an option).
const PACK_SCRIPT = `${PRELUDE}d=$1; names=$2; sum=$3; out=$4
check "$names" "$sum"
tar -c -f "$out" --format=pax --no-recursion --null --verbatim-files-from -C "$d" -T "$names"
${reportHead("out")}`;

// One changed file on the file channel is fetched as itself rather than inside an archive: the sandbox
// need not write and reread its bytes as a tar. It must still be a regular file (not a link); the bytes
// are accepted only at the size printed here and the SHA-256 the listing reported (a file that changed
// since the listing fails the step; its temp file is removed, nothing appears at its path).
// The listing was read by then: the scratch folder ($2) goes here rather than in a command of its own.
const SINGLE_SCRIPT = `${PRELUDE}f=$1
if [ -L "$f" ] || [ ! -f "$f" ]; then echo "msbv: $f is no longer a regular file" >&2; exit 3; fi
stat -c '%a' -- "$f"
wc -c < "$f"
rm -rf -- "$2"
`;

interface Failure {
  path: string;
  message: string;
  cause: unknown;
}

/**
 * Copies the sandbox's changes back to the host folders of a {@link syncIn} session, in one archive per
 * volume holding only files whose SHA-256 differs from what copy-in sent. A change is applied only where
 * the host still holds the copy-in version (or, for a new file, nothing); deletions are carried the same
 * way. Where both sides changed a file, the host's version is kept and the sandbox's is written next to
 * it as `<name>.sandbox-conflict`. Everything from the sandbox is untrusted: names and archive members
 * are checked (regular files only, no `..`, no links), and every host write goes through a
 * {@link Workspace}, so a symlink on the host side is never followed. The session is updated, so
 * `syncBack` may be called again.
 * @throws SyncConflictError (MSBV_SYNC_CONFLICT) after applying every other change, when files conflicted;
 *   SyncError (MSBV_SYNC_FAILED) when any step failed (other volumes and files are still applied).
 */
export async function syncBack(backend: SandboxBackend, session: SyncSession, options: SyncOptions = {}): Promise<SyncReport> {
  const target: SandboxTarget = { backend, name: session.sandboxName, options };
  const report = emptyReport();
  const failures: Failure[] = [];
  const scratch: ScratchState = { path: session.scratch, present: false };
  for (const { volume, state } of session.volumes) {
    try {
      await syncVolumeBack(target, volume, state, scratch, report, failures);
    } catch (err) {
      failures.push({ path: volume.host, message: asSyncError(err, `guest ${volume.guest}`, "").message.split("\n")[0] ?? "", cause: err });
    }
  }
  await removeScratch(target, scratch);
  const stateDir = options.stateDir ?? session.stateDir;
  if (stateDir) {
    // Conflicts and failures kept their copy-in entries, so the record stays truthful either way.
    await saveSyncState(stateDir, session).catch((err: unknown) =>
      failures.push({ path: stateDir, message: `could not record the synced state: ${String(err)}`, cause: err }),
    );
  }
  if (failures.length > 0) {
    const list = failures.map((f) => `  ${f.path}: ${f.message}`).join("\n");
    const conflicts = report.conflicts.length > 0 ? ` (and ${report.conflicts.length} conflicts, see details.report)` : "";
    throw new SyncError(
      ErrorCodes.SYNC_FAILED,
      `Sync-back from sandbox "${session.sandboxName}" failed for ${failures.length} path(s)${conflicts}:\n${list}`,
      {
        cause: failures[0]?.cause,
        hint: "the sandbox's changes for these paths did not reach the host; copy them out before the sandbox is discarded, or fix the cause and sync again",
        details: { report, failures: failures.map(({ path, message }) => ({ path, message })) },
      },
    );
  }
  if (report.conflicts.length > 0) {
    const list = report.conflicts
      .map((c) => `  ${join(c.host, c.path)}: ${c.reason}${c.sandboxCopy ? ` (sandbox version in ${join(c.host, c.sandboxCopy)})` : ""}`)
      .join("\n");
    throw new SyncConflictError(
      `Sync-back from sandbox "${session.sandboxName}" kept ${report.conflicts.length} host path(s) that changed on both sides since copy-in; everything else was applied:\n${list}`,
      report,
      { hint: `merge each sandbox version (the *${CONFLICT_SUFFIX} files) into the host file by hand, then delete the copy`, details: { report } },
    );
  }
  return report;
}

async function syncVolumeBack(
  target: SandboxTarget,
  volume: SyncVolume,
  state: VolumeState,
  scratch: ScratchState,
  report: SyncReport,
  failures: Failure[],
): Promise<void> {
  const ws = await Workspace.open(volume.host);
  // The guest's listing (a command in the sandbox, which hashes its files) and the host's hashing run side by side.
  scratch.present = true; // from the listing's first command on
  const [listing, { tree: host, sizes }] = await Promise.all([listGuest(target, volume.guest, `${scratch.path}/list`), hostTree(ws)]);
  if (!listing) {
    throw new SyncError(ErrorCodes.SYNC_FAILED, `the guest folder ${volume.guest} no longer exists in sandbox "${target.name}"`, {
      hint: "nothing was deleted on the host; recreate the folder in the sandbox or copy your work out another way",
    });
  }
  const plan = planBack(state, listing, host);
  // One changed file on the file channel is streamed into its place when its turn comes (below);
  // otherwise every file comes now, in one archive.
  const streamed = await streamCandidate(target, plan, listing);
  const fetched = streamed ? new Map<string, AcceptedFile>() : await fetchFiles(target, volume.guest, scratch, plan.fetch, report);
  const fail = (path: string, err: unknown) =>
    failures.push({ path: join(volume.host, path), message: (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "", cause: err });
  /** Writes the sandbox's version of `p` at `dest` on the host. */
  const deliver = async (p: string, dest: string): Promise<Delivered> => {
    if (streamed?.path === p) {
      const done = await streamSingle(target, ws, volume.guest, streamed, dest, report, scratch);
      if (done) return done;
      for (const [name, file] of await fetchFiles(target, volume.guest, scratch, [p], report)) fetched.set(name, file);
    }
    const f = fetched.get(p) as AcceptedFile;
    await ws.write(dest, f.pieces, { createParents: true, mode: f.mode });
    return { size: f.size, sha256: () => sha256(f.pieces) };
  };

  const kept = new Set(plan.conflicts.map((c) => c.path));
  for (const p of plan.deletes) {
    await ws.remove(p).then(
      () => void report.filesDeleted++,
      (err: unknown) => {
        kept.add(p);
        fail(p, err);
      },
    );
  }
  for (const d of plan.rmdirs) {
    // Not empty means the host added files there since copy-in: keep the folder and say so.
    const left = await ws.list(d).catch(() => undefined);
    if (left && left.length > 0) report.conflicts.push({ host: volume.host, path: d, reason: "folder-not-empty" });
    else
      await ws.remove(d).then(
        () => void state.dirs.delete(d),
        (err: unknown) => fail(d, err),
      );
  }
  for (const d of plan.mkdirs)
    await ws.mkdir(d).then(
      () => void state.dirs.add(d),
      (err: unknown) => fail(d, err),
    );
  const written = new Map<string, ManifestEntry>();
  for (const p of plan.writes) {
    await deliver(p, p).then(
      (f) => void written.set(p, { sha256: f.sha256(), size: f.size }),
      (err: unknown) => {
        kept.add(p);
        fail(p, err);
      },
    );
  }
  for (const c of plan.conflicts) {
    const conflict = { host: volume.host, path: c.path, reason: c.reason };
    if (!c.copy) {
      report.conflicts.push(conflict);
      continue;
    }
    const copy = `${c.path}${CONFLICT_SUFFIX}`;
    await deliver(c.path, copy).then(
      () => void report.conflicts.push({ ...conflict, sandboxCopy: copy }),
      (err: unknown) => {
        report.conflicts.push(conflict);
        fail(copy, err);
      },
    );
  }
  report.filesTransferred += written.size;
  report.bytesTransferred += [...written.values()].reduce((n, e) => n + e.size, 0);
  report.filesUnchanged += plan.unchanged;
  report.skipped.push(...plan.skipped.map((p) => join(volume.host, p)));
  updateState(state, kept, plan.skipped, listing.files, written, sizes, host.files);
}

/** A file written on the host: its size, and its SHA-256 when the manifest needs it (computed only then, if not already known). */
interface Delivered {
  size: number;
  sha256: () => string;
}

/** The one changed file to stream as itself through the file channel, with the SHA-256 the listing reported. */
interface Streamed {
  path: string;
  sha256: string;
}

async function streamCandidate(target: SandboxTarget, plan: BackPlan, listing: TreeListing): Promise<Streamed | undefined> {
  const only = plan.fetch.length === 1 ? plan.fetch[0] : undefined;
  const sum = only === undefined ? undefined : listing.files.get(only);
  return only !== undefined && sum !== undefined && (await fileChannelOf(target)) ? { path: only, sha256: sum } : undefined;
}

/** `paths` in one archive packed by the sandbox, checked as a whole before anything of it is used. */
async function fetchFiles(
  target: SandboxTarget,
  guest: string,
  scratch: ScratchState,
  paths: readonly string[],
  report: SyncReport,
): Promise<Map<string, AcceptedFile>> {
  if (paths.length === 0) return new Map();
  await ensureScratch(target, scratch);
  const names = `${scratch.path}/names`;
  const out = `${scratch.path}/out.tar`;
  const { check: sum } = await uploadNames(target, `file list for ${guest}`, paths, names);
  const head = await runScript(target, `packing changed files in ${guest}`, PACK_SCRIPT, [guest, names, sum, out]);
  const archive = await downloadParts(target, `archive of ${guest}`, out, head);
  report.archiveBytes += archive.reduce((n, part) => n + part.length, 0);
  const members = await readArchive(archive).catch((err: unknown) => {
    throw new SyncError(ErrorCodes.SYNC_FAILED, `the archive of ${guest} from sandbox "${target.name}" is not a valid tar: ${String(err)}`, {
      cause: err,
      hint: "nothing on the host was changed for this folder; retry the sync",
    });
  });
  const { files, problems } = checkArchive(members, new Set(paths));
  if (problems.length > 0) {
    throw new SyncError(
      ErrorCodes.SYNC_FAILED,
      `the archive of ${guest} from sandbox "${target.name}" was refused, nothing of it was written: ${problems.slice(0, 10).join("; ")}`,
      {
        hint: "something in the sandbox tampered with the sync tools or raced them; copy the files you need out by other means",
        details: { problems },
      },
    );
  }
  return files;
}

/**
 * The file fetched as itself through the file channel (SINGLE_SCRIPT) and written into `dest` while it
 * arrives (64 MiB are never held in memory, and the host's disk writes overlap the transfer); the temp
 * file is renamed into place only once the bytes matched the size printed and the listing's SHA-256,
 * and removed otherwise. Undefined when the file changed since the listing or is no longer a regular
 * file: the archive route then takes it as it is now and checks it its own way (links refused), as
 * before there was a direct fetch (a stop() while the sandbox still writes must not fail where it used
 * to succeed). A host-side failure (a link planted at `dest`, a full disk) or the caller's abort or
 * time limit is thrown: the archive route would fail the same way.
 */
async function streamSingle(
  target: SandboxTarget,
  ws: Workspace,
  guest: string,
  file: Streamed,
  dest: string,
  report: SyncReport,
  scratch: ScratchState,
): Promise<Delivered | undefined> {
  const remote = `${guest}/${file.path}`;
  try {
    const [modeLine, sizeLine] = await runScript(target, `size of ${remote}`, SINGLE_SCRIPT, [remote, scratch.path]);
    scratch.present = false;
    if (!/^[0-7]{1,4}$/.test(modeLine?.trim() ?? ""))
      throw corrupt(target, `file ${remote}`, `expected a mode line, got ${JSON.stringify(modeLine)}`);
    const mode = Number.parseInt(modeLine?.trim() ?? "", 8) & 0o777;
    let size = 0;
    const fetch = (sink: (piece: Uint8Array) => void) =>
      downloadInto(target, `file ${remote}`, remote, [sizeLine ?? "", file.sha256], (piece) => {
        size += piece.length;
        sink(piece);
      });
    await ws.writeStreamed(dest, fetch, { createParents: true, mode });
    report.archiveBytes += size;
    // downloadInto accepted exactly these bytes at the listing's SHA-256: no second hash.
    return { size, sha256: () => file.sha256 };
  } catch (err) {
    if (err instanceof WorkspaceError) throw err;
    if (err instanceof MsbvError && (err.code === ErrorCodes.ABORTED || err.code === ErrorCodes.TIMEOUT)) throw err;
    return undefined;
  }
}

/** After copy-back the manifest holds what both sides now agree on; conflicts and failures keep the copy-in entry. */
function updateState(
  state: VolumeState,
  kept: ReadonlySet<string>,
  skipped: readonly string[],
  sandbox: Map<string, string>,
  written: Map<string, ManifestEntry>,
  hostSizes: Map<string, number>,
  hostFiles: Map<string, string>,
): void {
  for (const [p, sha] of sandbox) {
    if (kept.has(p)) continue;
    const entry = written.get(p) ?? (state.files.get(p)?.sha256 === sha ? state.files.get(p) : undefined);
    if (entry) state.files.set(p, entry);
    else if (hostFiles.get(p) === sha) state.files.set(p, { sha256: sha, size: hostSizes.get(p) ?? 0 });
  }
  for (const p of [...state.files.keys()]) if (!sandbox.has(p) && !kept.has(p) && !skipped.includes(p)) state.files.delete(p);
}
