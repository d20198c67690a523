import { createHash } from "node:crypto";
import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";

// Bulk bytes through `sandbox.command.run`, the only channel the legacy server offers.
// In: request bodies are limited to 2 MB (docs/protocol.md#body-limit) and one argv string to 128 KiB (Linux
// MAX_ARG_STRLEN), so each request carries 1 MiB as base64 split over several arguments, appended to
// one file; the receiver verifies the whole file's SHA-256 before using it.
// Out: responses are unlimited on the legacy server but our dev server caps one command's output at
// 16 MiB, so a file comes back in parts of 6 MiB as base64 lines (76 chars, GNU default), each part
// ended by a marker line; the legacy portal may drop lines still unread when the process exits
// (docs/protocol.md#command-run), so a short or unmarked part is asked for again, with a pause before exiting.

/** Raw bytes per upload request (base64 ≈ 1.4 MB, under the 2 MB body limit with JSON overhead). */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** Base64 characters per argv string (well under MAX_ARG_STRLEN = 128 KiB). */
const ARG_CHARS = 64 * 1024;
/** Raw bytes per download part (base64 ≈ 8.2 MiB of output, under the dev server's 16 MiB cap). */
export const DOWNLOAD_PART_BYTES = 6 * 1024 * 1024;
const END_MARKER = "MSBV-END";
/** Default of `SyncOptions.maxTransferBytes`. */
export const DEFAULT_MAX_TRANSFER_BYTES = 1024 * 1024 * 1024;
const ATTEMPTS = 3;

/** Shell prelude: strict mode and `check FILE SHA256`, which fails the script when the file's hash differs. */
export const PRELUDE = [
  "set -eu",
  `check() { printf '%s  %s\\n' "$2" "$1" | sha256sum -c --status || { echo "msbv: $1: checksum mismatch after transfer" >&2; exit 3; }; }`,
  "",
].join("\n");

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Writes `data` to `remote` in the sandbox in chunks; returns its SHA-256 for the consumer's `check`. */
export async function upload(target: SandboxTarget, step: string, data: Buffer, remote: string): Promise<{ sha256: string; requests: number }> {
  const script = `${PRELUDE}f=$1; m=$2; shift 2\nif [ "$m" = new ]; then : > "$f"; fi\nfor a do printf %s "$a"; done | base64 -d >> "$f"\n`;
  let requests = 0;
  for (let off = 0; off === 0 || off < data.length; off += UPLOAD_CHUNK_BYTES) {
    const b64 = data.subarray(off, off + UPLOAD_CHUNK_BYTES).toString("base64");
    const args = [remote, off === 0 ? "new" : "append"];
    for (let i = 0; i < b64.length; i += ARG_CHARS) args.push(b64.slice(i, i + ARG_CHARS));
    await runScript(target, `${step} (upload bytes ${off}..${Math.min(off + UPLOAD_CHUNK_BYTES, data.length)} of ${data.length})`, script, args);
    requests++;
    if (data.length === 0) break;
  }
  return { sha256: sha256(data), requests };
}

/** Reads a sandbox file through stdout in verified parts. */
export async function download(target: SandboxTarget, step: string, remote: string): Promise<Buffer> {
  const head = await runScript(target, `${step} (size)`, `${PRELUDE}wc -c < "$1"\nsha256sum < "$1"\n`, [remote]);
  const size = Number(head[0]?.trim());
  const expected = /^[0-9a-f]{64}/.exec(head[1] ?? "")?.[0];
  if (!Number.isSafeInteger(size) || size < 0 || !expected) {
    throw corrupt(target, step, `expected a size and a SHA-256 line, got ${JSON.stringify(head.slice(0, 2))}`);
  }
  // The size is the sandbox's claim: check it before holding anything (a claimed 1 TB file would
  // otherwise be fetched part after part into memory).
  const limit = target.options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
  if (size > limit) {
    throw new SyncError(ErrorCodes.SYNC_TOO_LARGE, `Sync ${step} refused: the sandbox "${target.name}" claims ${size} bytes, over the ${limit}-byte limit`, {
      hint: "nothing on the host was changed by this step; if the folder really is this large, raise `maxTransferBytes` or sync a smaller folder",
      details: { step, sandbox: target.name, size, limit },
    });
  }
  const parts: Buffer[] = [];
  for (let off = 0; off < size; off += DOWNLOAD_PART_BYTES) {
    parts.push(await downloadPart(target, step, remote, off, Math.min(DOWNLOAD_PART_BYTES, size - off)));
  }
  const data = Buffer.concat(parts);
  if (sha256(data) !== expected) {
    throw corrupt(target, step, `the ${size} bytes received do not match the sandbox's SHA-256 ${expected}`);
  }
  return data;
}

async function downloadPart(target: SandboxTarget, step: string, remote: string, off: number, len: number): Promise<Buffer> {
  let problem = "";
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const pause = attempt > 1 ? "sleep 1\n" : "";
    const script = `${PRELUDE}tail -c +"$2" "$1" | head -c "$3" | base64\necho ${END_MARKER}\n${pause}`;
    const lines = await runScript(target, `${step} (bytes ${off}..${off + len})`, script, [remote, String(off + 1), String(len)]);
    const end = lines.lastIndexOf(END_MARKER);
    const body = end === -1 ? lines : lines.slice(0, end);
    const bad = body.findIndex((l) => !/^[A-Za-z0-9+/=]*$/.test(l));
    if (end === -1) problem = `the end marker is missing after ${lines.length} lines`;
    else if (bad !== -1) problem = `line ${bad + 1} is not base64: ${JSON.stringify(body[bad]?.slice(0, 60))}`;
    else {
      const part = Buffer.from(body.join(""), "base64");
      if (part.length === len) return part;
      problem = `${part.length} bytes decoded, ${len} expected`;
    }
  }
  throw corrupt(target, step, `bytes ${off}..${off + len}: ${problem} (after ${ATTEMPTS} attempts)`);
}

function corrupt(target: SandboxTarget, step: string, what: string): SyncError {
  return new SyncError(ErrorCodes.SYNC_FAILED, `Sync ${step} failed: the sandbox "${target.name}" sent corrupt data: ${what}`, {
    hint: "retry the stop; if it persists, something in the sandbox writes to the sync command's output (nothing on the host was changed by this step)",
    details: { step, sandbox: target.name },
  });
}
