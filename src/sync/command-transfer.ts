import { COMPRESS_RATIO, GUNZIP_SCRIPT, gzipIfWorth, inflateExactly } from "./compression.js";
import { PRELUDE, runScript, type SandboxTarget } from "./sandbox-shell.js";
import { corrupt } from "./transfer-errors.js";

// Bulk bytes through `sandbox.command.run`, the only channel the legacy server offers.
// In: request bodies are limited to 2 MB (docs/protocol.md#body-limit) and one argv string to 128 KiB (Linux
// MAX_ARG_STRLEN), so each request carries 1 MiB as base64 split over several arguments; the receiver
// verifies the whole file's SHA-256 before using it.
// Out: responses are unlimited on the legacy server but our dev server caps one command's output at
// 16 MiB, so a file comes back in parts of 6 MiB as base64 lines (76 chars, GNU default), each part
// ended by a marker line; the legacy portal may drop lines still unread when the process exits
// (docs/protocol.md#command-run), so a short or unmarked part is asked for again, with a pause before exiting.
// Faster within the protocol (issue 14): several requests in flight, each writing its chunk at its own
// offset (`dd seek`), and gzip both ways when a sample of the data shrinks. Compression changes only
// what travels: the SHA-256 checks are over the uncompressed bytes, as before. `channel: "command-serial"`
// keeps the earlier behaviour (one request at a time, no compression) for servers that need it.

/** Raw bytes per upload request (base64 ≈ 1.4 MB, under the 2 MB body limit with JSON overhead). */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** Base64 characters per argv string (well under MAX_ARG_STRLEN = 128 KiB). */
const ARG_CHARS = 64 * 1024;
/** Raw bytes per download part (base64 ≈ 8.2 MiB of output, under the dev server's 16 MiB cap). */
export const DOWNLOAD_PART_BYTES = 6 * 1024 * 1024;
/** Requests in flight at once on the pipelined route. */
export const PIPELINE_DEPTH = 4;
const END_MARKER = "MSBV-END";
const ATTEMPTS = 3;

const SERIAL_UPLOAD_SCRIPT = `${PRELUDE}f=$1; m=$2; shift 2\nif [ "$m" = new ]; then : > "$f"; fi\nfor a do printf %s "$a"; done | base64 -d >> "$f"\n`;
// Each chunk lands at its own offset, so chunks may arrive in any order; `new` creates/truncates first.
const OFFSET_UPLOAD_SCRIPT = `${PRELUDE}f=$1; off=$2; m=$3; shift 3\nif [ "$m" = new ]; then : > "$f"; fi\nfor a do printf %s "$a"; done | base64 -d | dd of="$f" bs=1M oflag=seek_bytes seek="$off" conv=notrunc status=none\n`;

function serial(target: SandboxTarget): boolean {
  return target.options.channel === "command-serial";
}

/** Writes `data` to `remote` through `sandbox.command.run`; returns the number of requests. */
export async function commandUpload(target: SandboxTarget, step: string, data: Buffer, remote: string): Promise<number> {
  if (serial(target)) return serialUpload(target, step, data, remote);
  const sent = gzipIfWorth(data) ?? data;
  const file = sent === data ? remote : `${remote}.gz`;
  const chunk = (off: number) => {
    const b64 = sent.subarray(off, off + UPLOAD_CHUNK_BYTES).toString("base64");
    const args = [file, String(off), off === 0 ? "new" : "at"];
    for (let i = 0; i < b64.length; i += ARG_CHARS) args.push(b64.slice(i, i + ARG_CHARS));
    const what = `${step} (upload bytes ${off}..${Math.min(off + UPLOAD_CHUNK_BYTES, sent.length)} of ${sent.length}${file === remote ? "" : ", gzip"})`;
    return runScript(target, what, OFFSET_UPLOAD_SCRIPT, args);
  };
  // The first request creates the file; the rest are written in place, several at a time.
  await chunk(0);
  const offsets: number[] = [];
  for (let off = UPLOAD_CHUNK_BYTES; off < sent.length; off += UPLOAD_CHUNK_BYTES) offsets.push(off);
  await inParallel(offsets, PIPELINE_DEPTH, chunk);
  let requests = 1 + offsets.length;
  if (file !== remote) {
    await runScript(target, `${step} (gunzip)`, GUNZIP_SCRIPT, [file, remote]);
    requests++;
  }
  return requests;
}

async function serialUpload(target: SandboxTarget, step: string, data: Buffer, remote: string): Promise<number> {
  let requests = 0;
  for (let off = 0; off === 0 || off < data.length; off += UPLOAD_CHUNK_BYTES) {
    const b64 = data.subarray(off, off + UPLOAD_CHUNK_BYTES).toString("base64");
    const args = [remote, off === 0 ? "new" : "append"];
    for (let i = 0; i < b64.length; i += ARG_CHARS) args.push(b64.slice(i, i + ARG_CHARS));
    await runScript(
      target,
      `${step} (upload bytes ${off}..${Math.min(off + UPLOAD_CHUNK_BYTES, data.length)} of ${data.length})`,
      SERIAL_UPLOAD_SCRIPT,
      args,
    );
    requests++;
    if (data.length === 0) break;
  }
  return requests;
}

/** Reads `size` bytes of a sandbox file through stdout in verified parts (the caller checks the whole SHA-256). */
export async function commandDownload(target: SandboxTarget, step: string, remote: string, size: number): Promise<Buffer> {
  const offsets: number[] = [];
  for (let off = 0; off < size; off += DOWNLOAD_PART_BYTES) offsets.push(off);
  const len = (off: number) => Math.min(DOWNLOAD_PART_BYTES, size - off);
  if (serial(target)) {
    const parts: Buffer[] = [];
    for (const off of offsets) parts.push(await downloadPart(target, step, remote, off, len(off), false));
    return Buffer.concat(parts);
  }
  if (offsets.length === 0) return Buffer.alloc(0);
  // The first part is asked for compressed; whether it shrank decides for the rest.
  const first = await downloadPart(target, step, remote, 0, len(0), true);
  const gz = first.wireBytes <= first.length * COMPRESS_RATIO;
  const rest = await inParallel(offsets.slice(1), PIPELINE_DEPTH, (off) => downloadPart(target, step, remote, off, len(off), gz));
  return Buffer.concat([first, ...rest]);
}

type Part = Buffer & { wireBytes?: number };

async function downloadPart(
  target: SandboxTarget,
  step: string,
  remote: string,
  off: number,
  len: number,
  gz: boolean,
): Promise<Part & { wireBytes: number }> {
  let problem = "";
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const pause = attempt > 1 ? "sleep 1\n" : "";
    const filter = gz ? " | gzip -1" : "";
    const script = `${PRELUDE}tail -c +"$2" "$1" | head -c "$3"${filter} | base64\necho ${END_MARKER}\n${pause}`;
    const lines = await runScript(target, `${step} (bytes ${off}..${off + len}${gz ? ", gzip" : ""})`, script, [
      remote,
      String(off + 1),
      String(len),
    ]);
    const end = lines.lastIndexOf(END_MARKER);
    const body = end === -1 ? lines : lines.slice(0, end);
    const bad = body.findIndex((l) => !/^[A-Za-z0-9+/=]*$/.test(l));
    if (end === -1) problem = `the end marker is missing after ${lines.length} lines`;
    else if (bad !== -1) problem = `line ${bad + 1} is not base64: ${JSON.stringify(body[bad]?.slice(0, 60))}`;
    else {
      const wire = Buffer.from(body.join(""), "base64");
      const part = gz
        ? inflateExactly(wire, len)
        : wire.length === len
          ? { data: wire }
          : { problem: `${wire.length} bytes decoded, ${len} expected` };
      if ("data" in part) return Object.assign(part.data, { wireBytes: wire.length });
      problem = part.problem;
    }
  }
  throw corrupt(target, step, `bytes ${off}..${off + len}: ${problem} (after ${ATTEMPTS} attempts)`);
}

/** Runs `fn` over `items` with at most `depth` at once; results in input order; the first failure rejects (after the others settle). */
export async function inParallel<T, R>(items: readonly T[], depth: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(depth, items.length) }, worker));
  if (failure) throw failure.err;
  return results;
}
