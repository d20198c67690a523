import { createHash } from "node:crypto";
import { commandDownload, commandUpload } from "./command-transfer.js";
import { COMPRESS_RATIO, inflateExactly, SAMPLE_BYTES } from "./compression.js";
import { channelDownload, channelUpload, fileChannelOf } from "./file-channel-transfer.js";
import { PRELUDE, runScript, VERIFIED_ON_WRITE, type SandboxTarget } from "./sandbox-shell.js";
import { corrupt, tooLarge } from "./transfer-errors.js";

export { PRELUDE };

// Bulk bytes between the host and a sandbox file. Two routes, same checks:
// * the dev server's file channel (raw HTTP bodies, docs/protocol.md#dev-sync-channel) when the server
//   advertises it and `options.channel` allows it (src/sync/file-channel-transfer.ts);
// * otherwise `sandbox.command.run`, the only channel a legacy server offers (src/sync/command-transfer.ts).
// Either way the uploader returns the SHA-256 the sandbox-side consumer `check`s before using the file,
// and a download is accepted only when its size and SHA-256 match what the sandbox reported first.

/** Default of `SyncOptions.maxTransferBytes`. */
export const DEFAULT_MAX_TRANSFER_BYTES = 1024 * 1024 * 1024;

export function sha256(data: Uint8Array | readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of data instanceof Uint8Array ? [data] : data) hash.update(part);
  return hash.digest("hex");
}

/** Bytes to send: one buffer, or consecutive pieces (an archive that shares its files' buffers). */
export type Payload = Buffer | readonly Buffer[];

function byteLength(data: Payload): number {
  return Buffer.isBuffer(data) ? data.length : data.reduce((n, part) => n + part.length, 0);
}

/**
 * Writes `data` to `remote` in the sandbox; returns what the consumer's `check` takes: the SHA-256, or
 * VERIFIED_ON_WRITE when the file channel already verified it in the sandbox before it appeared.
 */
export async function upload(target: SandboxTarget, step: string, data: Payload, remote: string): Promise<{ check: string; requests: number }> {
  const channel = await fileChannelOf(target);
  const sum = sha256(data);
  if (channel && byteLength(data) <= channel.maxBytes) {
    return { check: VERIFIED_ON_WRITE, requests: await channelUpload(target, channel, step, data, sum, remote) };
  }
  return { check: sum, requests: await commandUpload(target, step, Buffer.isBuffer(data) ? data : Buffer.concat(data), remote) };
}

/**
 * Shell lines printing the size and SHA-256 of the file named by the shell variable `name`: a step that
 * makes a file ends with them and hands its stdout to {@link downloadParts}, which then needs no probe of
 * its own (one command less per download). The lines are the sandbox's claim, checked as the probe's are.
 */
export function reportHead(name: string): string {
  return `wc -c < "$${name}"\nsha256 < "$${name}"\n`;
}

// Size and SHA-256 of the file.
const HEAD_SCRIPT = `${PRELUDE}f=$1\n${reportHead("f")}`;
// The same, and for the file channel a gzip copy when a 1 MiB sample compresses well, with its size
// (the channel then moves the copy, src/sync/compression.ts).
const PROBE_SCRIPT = `${HEAD_SCRIPT}if [ "$(wc -c < "$1")" -gt ${SAMPLE_BYTES} ] && [ "$(head -c ${SAMPLE_BYTES} "$1" | gzip -1 | wc -c)" -le ${Math.floor(SAMPLE_BYTES * COMPRESS_RATIO)} ]; then
  gzip -1 -c < "$1" > "$1.gz"; wc -c < "$1.gz"
fi
`;

/** Reads a sandbox file: its size and SHA-256 first (size checked against `maxTransferBytes`), then the bytes, verified. */
export async function download(target: SandboxTarget, step: string, remote: string, reported?: readonly string[]): Promise<Buffer> {
  const parts = await downloadParts(target, step, remote, reported);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * {@link download}, the bytes as the pieces they arrived in (a large archive is not copied once more).
 * `reported`: the stdout of the step that made the file, ending with {@link reportHead}'s lines; used
 * instead of a probe unless the channel compresses (its probe also makes the gzip copy).
 */
export async function downloadParts(target: SandboxTarget, step: string, remote: string, reported?: readonly string[]): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  await downloadInto(target, step, remote, reported, (piece) => void parts.push(piece));
  return parts;
}

/**
 * {@link downloadParts}, each piece handed to `receive` as soon as it is in, in order, instead of being
 * gathered (the caller may write it out while the rest is on the way). The pieces are UNVERIFIED until
 * this resolves: it rejects when the size or the SHA-256 do not match what the sandbox reported (after
 * at most the reported size was handed over), so whatever the caller made of them must stay unused
 * until then (src/workspace's `writeStreamed` renames its temp file into place only then).
 */
export async function downloadInto(
  target: SandboxTarget,
  step: string,
  remote: string,
  reported: readonly string[] | undefined,
  receive: (piece: Buffer) => void,
): Promise<void> {
  const channel = await fileChannelOf(target);
  const head =
    reported && reported.length >= 2 && !channel?.compress
      ? reported.slice(-2)
      : await runScript(target, `${step} (size)`, channel?.compress ? PROBE_SCRIPT : HEAD_SCRIPT, [remote]);
  const size = Number(head[0]?.trim());
  const expected = /^[0-9a-f]{64}/.exec(head[1] ?? "")?.[0];
  if (!Number.isSafeInteger(size) || size < 0 || !expected) {
    throw corrupt(target, step, `expected a size and a SHA-256 line, got ${JSON.stringify(head.slice(0, 2))}`);
  }
  // The size is the sandbox's claim: check it before holding anything (a claimed 1 TB file would
  // otherwise be fetched part after part into memory).
  const limit = target.options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
  if (size > limit) throw tooLarge(target, step, `claims ${size} bytes`, size, limit);
  const verify = (received: number, digest: () => string) => {
    if (received !== size) throw corrupt(target, step, `${received} bytes received, the sandbox reported ${size}`);
    if (digest() !== expected) throw corrupt(target, step, `the ${size} bytes received do not match the sandbox's SHA-256 ${expected}`);
  };
  const gzSize = head[2] === undefined ? Number.NaN : Number(head[2].trim());
  const gzipped = channel !== undefined && Number.isSafeInteger(gzSize) && gzSize >= 0 && gzSize < size;
  if (channel && !gzipped && size <= channel.maxBytes) {
    // Each piece is hashed as it arrives, while the client would otherwise wait for the next one and
    // while the piece is still in cache: once the last piece is in, verifying costs next to nothing.
    // The channel never hands over more than `size` bytes.
    const hash = createHash("sha256");
    let received = 0;
    await channelDownload(target, channel, step, remote, size, (piece) => {
      hash.update(piece);
      received += piece.length;
      receive(piece);
    });
    verify(received, () => hash.digest("hex"));
    return;
  }
  let data: Buffer;
  if (channel && gzipped) {
    // Only ever fewer bytes than the file itself, and never inflated past `size`.
    const packed: Buffer[] = [];
    await channelDownload(target, channel, step, `${remote}.gz`, gzSize, (piece) => void packed.push(piece));
    const inflated = inflateExactly(Buffer.concat(packed), size);
    if ("problem" in inflated) throw corrupt(target, step, inflated.problem);
    data = inflated.data;
  } else {
    data = await commandDownload(target, step, remote, size);
  }
  verify(data.length, () => sha256(data));
  receive(data);
}
