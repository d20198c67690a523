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
  const gzSize = head[2] === undefined ? undefined : Number(head[2].trim());
  let data: Buffer[];
  if (channel && gzSize !== undefined && Number.isSafeInteger(gzSize) && gzSize >= 0 && gzSize < size) {
    // Only ever fewer bytes than the file itself, and never inflated past `size`.
    const inflated = inflateExactly(Buffer.concat(await channelDownload(target, channel, step, `${remote}.gz`, gzSize)), size);
    if ("problem" in inflated) throw corrupt(target, step, inflated.problem);
    data = [inflated.data];
  } else if (channel && size <= channel.maxBytes) {
    data = await channelDownload(target, channel, step, remote, size);
  } else {
    data = [await commandDownload(target, step, remote, size)];
  }
  const received = byteLength(data);
  if (received !== size) throw corrupt(target, step, `${received} bytes received, the sandbox reported ${size}`);
  if (sha256(data) !== expected) {
    throw corrupt(target, step, `the ${size} bytes received do not match the sandbox's SHA-256 ${expected}`);
  }
  return data;
}
