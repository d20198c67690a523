import { join } from "node:path";
import type { SandboxBackend } from "../backend/backend.js";
import { ErrorCodes } from "../errors/codes.js";
import { MsbvError } from "../errors/msbv-error.js";
import { SyncError } from "../errors/errors.js";
import { SyncConflictError } from "./sync-conflict-error.js";
import { Workspace } from "../workspace/index.js";
import { type AcceptedFile, checkArchive } from "./archive-check.js";
import { readArchive } from "./archive.js";
import { planBack, type BackPlan, type TreeListing } from "./diff.js";
import { fileChannelOf } from "./file-channel-transfer.js";
import { listGuest } from "./guest-listing.js";
import { hostTree } from "./host-tree.js";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";
import { createScratch, removeScratch, uploadNames } from "./scratch.js";
import { emptyReport } from "./report.js";
import { saveSyncState } from "./state-file.js";
import { asSyncError } from "./sync-in.js";
import { PRELUDE, downloadParts, reportHead, sha256 } from "./transfer.js";
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
// since the listing fails the step; nothing is written for it).
const SINGLE_SCRIPT = `${PRELUDE}f=$1
if [ -L "$f" ] || [ ! -f "$f" ]; then echo "msbv: $f is no longer a regular file" >&2; exit 3; fi
stat -c '%a' -- "$f"
wc -c < "$f"
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
  // syncIn made it, but an earlier syncBack removed it again (syncBack may run more than once).
  await createScratch(target, session.scratch).catch((err: unknown) => {
    throw asSyncError(
      err,
      `Sync-back from sandbox "${session.sandboxName}" failed`,
      "nothing on the host was changed; check that the sandbox still runs, and copy your work out before it is discarded",
    );
  });
  for (const { volume, state } of session.volumes) {
    try {
      await syncVolumeBack(target, volume, state, session.scratch, report, failures);
    } catch (err) {
      failures.push({ path: volume.host, message: asSyncError(err, `guest ${volume.guest}`, "").message.split("\n")[0] ?? "", cause: err });
    }
  }
  await removeScratch(target, session.scratch);
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
  scratch: string,
  report: SyncReport,
  failures: Failure[],
): Promise<void> {
  const listing = await listGuest(target, volume.guest, `${scratch}/list`);
  if (!listing) {
    throw new SyncError(ErrorCodes.SYNC_FAILED, `the guest folder ${volume.guest} no longer exists in sandbox "${target.name}"`, {
      hint: "nothing was deleted on the host; recreate the folder in the sandbox or copy your work out another way",
    });
  }
  const ws = await Workspace.open(volume.host);
  const { tree: host, sizes } = await hostTree(ws);
  const plan = planBack(state, listing, host);
  const fetched = await fetchFiles(target, volume.guest, scratch, plan, listing, report);
  const fail = (path: string, err: unknown) =>
    failures.push({ path: join(volume.host, path), message: (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "", cause: err });

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
    const f = fetched.get(p) as AcceptedFile;
    await ws.write(p, f.pieces, { createParents: true, mode: f.mode }).then(
      () => void written.set(p, { sha256: sha256(f.pieces), size: f.size }),
      (err: unknown) => {
        kept.add(p);
        fail(p, err);
      },
    );
  }
  for (const c of plan.conflicts) {
    const conflict = { host: volume.host, path: c.path, reason: c.reason };
    const f = c.copy ? fetched.get(c.path) : undefined;
    if (!f) {
      report.conflicts.push(conflict);
      continue;
    }
    const copy = `${c.path}${CONFLICT_SUFFIX}`;
    await ws.write(copy, f.pieces, { createParents: true, mode: f.mode }).then(
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

async function fetchFiles(
  target: SandboxTarget,
  guest: string,
  scratch: string,
  plan: BackPlan,
  listing: TreeListing,
  report: SyncReport,
): Promise<Map<string, AcceptedFile>> {
  if (plan.fetch.length === 0) return new Map();
  const only = plan.fetch.length === 1 ? plan.fetch[0] : undefined;
  const expected = only === undefined ? undefined : listing.files.get(only);
  if (only !== undefined && expected !== undefined && (await fileChannelOf(target))) {
    const direct = await fetchSingle(target, guest, only, expected, report).catch((err: unknown) => {
      // Changed since the listing, or no longer a regular file: the archive route below takes the file
      // as it is now and checks it its own way (links refused), as before there was a direct fetch. A
      // stop() while the sandbox still writes must not fail where it used to succeed.
      if (err instanceof MsbvError && (err.code === ErrorCodes.ABORTED || err.code === ErrorCodes.TIMEOUT)) throw err;
      return undefined;
    });
    if (direct) return direct;
  }
  const names = `${scratch}/names`;
  const out = `${scratch}/out.tar`;
  const { check: sum } = await uploadNames(target, `file list for ${guest}`, plan.fetch, names);
  const head = await runScript(target, `packing changed files in ${guest}`, PACK_SCRIPT, [guest, names, sum, out]);
  const archive = await downloadParts(target, `archive of ${guest}`, out, head);
  report.archiveBytes += archive.reduce((n, part) => n + part.length, 0);
  const members = await readArchive(archive).catch((err: unknown) => {
    throw new SyncError(ErrorCodes.SYNC_FAILED, `the archive of ${guest} from sandbox "${target.name}" is not a valid tar: ${String(err)}`, {
      cause: err,
      hint: "nothing on the host was changed for this folder; retry the sync",
    });
  });
  const { files, problems } = checkArchive(members, new Set(plan.fetch));
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

/** `only` fetched as itself through the file channel (SINGLE_SCRIPT), accepted only at the listing's SHA-256. */
async function fetchSingle(
  target: SandboxTarget,
  guest: string,
  only: string,
  expected: string,
  report: SyncReport,
): Promise<Map<string, AcceptedFile>> {
  const remote = `${guest}/${only}`;
  const [modeLine, sizeLine] = await runScript(target, `size of ${remote}`, SINGLE_SCRIPT, [remote]);
  const mode = Number.parseInt(modeLine?.trim() ?? "", 8);
  if (!/^[0-7]{1,4}$/.test(modeLine?.trim() ?? "")) throw corrupt(target, `file ${remote}`, `expected a mode line, got ${JSON.stringify(modeLine)}`);
  const pieces = await downloadParts(target, `file ${remote}`, remote, [sizeLine ?? "", expected]);
  const size = pieces.reduce((n, part) => n + part.length, 0);
  report.archiveBytes += size;
  return new Map([[only, { pieces, size, mode: mode & 0o777 }]]);
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
