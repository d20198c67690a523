import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import type { TreeListing } from "./diff.js";
import { decodeName, relPathProblem } from "./rel-paths.js";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";
import { PRELUDE, download, reportHead } from "./transfer.js";

/** The sandbox's view of a guest folder, plus names that could not be represented. */
export interface GuestListing extends TreeListing {
  /** Entries whose names are not valid UTF-8 (reported as skipped, never deleted on either side). */
  undecodable: number;
}

// Hashes each named file (all of them over 1023 KiB) and prints its listing record.
const BIG_FILES = [
  "set -eu",
  "if command -v openssl >/dev/null 2>&1; then sha256() { openssl dgst -sha256 -r; }; else sha256() { sha256sum; }; fi",
  `for f; do h=$(sha256 < "$f"); printf '%s  %s\\0' "\${h%% *}" "$f"; done`,
].join("\n");

// One record per entry, NUL-terminated so any file name survives: `<sha256>  ./path` for regular files
// (sha256sum -z does not escape names), `D ./path` for folders, `O ./path` for anything else. `find`
// never follows symlinks (no -L), so a link planted in the guest folder is listed as `O` and never read.
// Files over 1023 KiB are hashed one by one with the prelude's `sha256` (openssl where the image has it:
// about twice sha256sum's speed), their records printed in the same form. The script ends with the
// listing's size and SHA-256, so its download needs no probe. The listing is a sync's first step in the
// sandbox: it makes the scratch folder it writes into (private, 0700), one command less per sync.
const LIST_SCRIPT = `${PRELUDE}d=$1; out=$2  # $3: BIG_FILES
mkdir -p -m 700 "\${out%/*}"
if [ ! -d "$d" ]; then printf 'NONE' > "$out"; else
cd "$d"
{
  find . -mindepth 1 -type f -size -1024k -exec sha256sum -z -- {} +
  find . -mindepth 1 -type f -size +1023k -exec sh -c "$3" sh {} +
  find . -mindepth 1 -type d -exec printf 'D %s\\0' {} +
  find . -mindepth 1 ! -type f ! -type d -exec printf 'O %s\\0' {} +
} > "$out"
fi
${reportHead("out")}`;

/** Lists the guest folder with content hashes; undefined when it does not exist. `scratchFile`'s folder is made if missing. */
export async function listGuest(target: SandboxTarget, guest: string, scratchFile: string): Promise<GuestListing | undefined> {
  const head = await runScript(target, `listing of ${guest}`, LIST_SCRIPT, [guest, scratchFile, BIG_FILES]);
  const raw = await download(target, `listing of ${guest}`, scratchFile, head);
  if (raw.toString("latin1") === "NONE") return undefined;
  const maxEntries = target.options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  return parseListing(
    raw,
    (what) =>
      new SyncError(ErrorCodes.SYNC_FAILED, `Sync listing of ${guest} in sandbox "${target.name}" is malformed: ${what}`, {
        hint: "something in the sandbox tampered with the sync tools or the guest folder; nothing on the host was changed",
        details: { guest, sandbox: target.name },
      }),
    maxEntries,
    () =>
      new SyncError(ErrorCodes.SYNC_TOO_LARGE, `Sync listing of ${guest} in sandbox "${target.name}" has more than ${maxEntries} entries`, {
        hint: "nothing on the host was changed; if the folder really is this large, raise `maxEntries` or sync a smaller folder",
        details: { guest, sandbox: target.name, maxEntries },
      }),
  );
}

/** Default of `SyncOptions.maxEntries`. */
export const DEFAULT_MAX_ENTRIES = 1_000_000;

/** Parses the NUL-separated listing records. Exported for unit tests. */
export function parseListing(
  raw: Buffer,
  fail: (what: string) => Error,
  maxEntries = DEFAULT_MAX_ENTRIES,
  tooMany: () => Error = () => fail(`more than ${maxEntries} entries`),
): GuestListing {
  const out: GuestListing = { files: new Map(), dirs: new Set(), others: new Set(), undecodable: 0 };
  let start = 0;
  let entries = 0;
  while (start < raw.length) {
    if (++entries > maxEntries) throw tooMany();
    const end = raw.indexOf(0, start);
    if (end === -1) throw fail("the last record is not NUL-terminated");
    const rec = raw.subarray(start, end);
    start = end + 1;
    const head = rec.subarray(0, 2).toString("latin1");
    let kind: "file" | "dir" | "other";
    let nameAt: number;
    let sha = "";
    if (head === "D ") [kind, nameAt] = ["dir", 2];
    else if (head === "O ") [kind, nameAt] = ["other", 2];
    else {
      sha = rec.subarray(0, 64).toString("latin1");
      if (!/^[0-9a-f]{64}$/.test(sha) || rec.subarray(64, 66).toString("latin1") !== "  ") {
        throw fail(`unexpected record ${JSON.stringify(rec.subarray(0, 80).toString("utf8"))}`);
      }
      [kind, nameAt] = ["file", 66];
    }
    const name = rec.subarray(nameAt);
    if (name.subarray(0, 2).toString("latin1") !== "./") throw fail(`name without ./ prefix: ${JSON.stringify(name.toString("utf8"))}`);
    const p = decodeName(name.subarray(2));
    if (p === undefined) {
      out.undecodable++;
      continue;
    }
    const problem = relPathProblem(p);
    if (problem) throw fail(`unsafe name ${JSON.stringify(p)} (${problem})`);
    if (kind === "file") out.files.set(p, sha);
    else if (kind === "dir") out.dirs.add(p);
    else out.others.add(p);
  }
  return out;
}
