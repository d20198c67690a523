import { bodySize, isStreamed, type FileChannel, type PutCheck, type StreamedBody } from "../backend/file-channel.js";
import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import { MsbvError } from "../errors/msbv-error.js";
import { gzipIfWorth } from "./compression.js";
import type { SandboxTarget } from "./sandbox-shell.js";

// The dev server's raw file channel (docs/protocol.md#dev-sync-channel): one HTTP request per file
// each way, bytes as they are. Used only when the backend offers it and `options.channel` is "auto".
// What crosses is checked exactly as on the command route (src/sync/transfer.ts): the sandbox verifies an
// upload's SHA-256 before using it; a download must match the size and SHA-256 the sandbox reported.

const asked = new WeakMap<SandboxTarget, Promise<FileChannel | undefined>>();

/** The file channel to use for this target, asked of the backend once per target; undefined = command route. */
export function fileChannelOf(target: SandboxTarget): Promise<FileChannel | undefined> {
  const choice = target.options.channel ?? "auto";
  if (choice !== "auto" || !target.backend.fileChannel) return Promise.resolve(undefined);
  let channel = asked.get(target);
  if (!channel) {
    channel = target.backend.fileChannel(callOptions(target));
    asked.set(target, channel);
  }
  return channel;
}

/**
 * Puts `data` (SHA-256 `sha256`) at `remote` in one request; bytes in memory are gzipped when that pays
 * (unpacked in the sandbox on the way), a streamed body goes as it is. The sandbox verifies the hash
 * before the file appears at `remote`, with `extra`'s mode and mtime when given (and its missing
 * folders made first when `extra.createParents`).
 */
export async function channelUpload(
  target: SandboxTarget,
  channel: FileChannel,
  step: string,
  data: Buffer | readonly Buffer[] | StreamedBody,
  sha256: string,
  remote: string,
  extra: Pick<PutCheck, "mode" | "mtimeMs" | "createParents"> = {},
): Promise<number> {
  const parts = Buffer.isBuffer(data) ? [data] : data;
  const size = bodySize(parts);
  const packed = channel.compress && !isStreamed(parts) ? gzipIfWorth(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)) : undefined;
  try {
    await channel.put(
      target.name,
      remote,
      packed ?? parts,
      { sha256, size, ...extra, ...(packed ? { encoding: "gzip" as const } : {}) },
      callOptions(target),
    );
  } catch (err) {
    // A streamed file is read again while it is sent: one that changed since it was hashed fails the
    // sandbox's check (or ends early), which is worth saying.
    const changed = isStreamed(parts) ? "; a host file that changed while it was being sent fails this way too: run the sync again" : "";
    throw failed(target, `${step} (upload of ${packed ? `${packed.length} bytes, gzip` : `${size} bytes`})`, err, changed);
  }
  return 1;
}

/** Gets at most `size` bytes of `remote`, each piece handed to `receive` as it arrives (see {@link FileChannel.get}). */
export async function channelDownload(
  target: SandboxTarget,
  channel: FileChannel,
  step: string,
  remote: string,
  size: number,
  receive: (piece: Buffer) => void,
): Promise<void> {
  try {
    await channel.get(target.name, remote, size, receive, callOptions(target));
  } catch (err) {
    if (err instanceof MsbvError && err.code === ErrorCodes.RESPONSE_TOO_LARGE) {
      throw new SyncError(
        ErrorCodes.SYNC_TOO_LARGE,
        `Sync ${step} refused: the file channel sent more than the ${size} bytes the sandbox "${target.name}" reported; it was not read further`,
        {
          cause: err,
          hint: 'nothing on the host was changed by this step; the server or the sandbox misbehaves, `channel: "command"` avoids the file channel',
          details: { step, sandbox: target.name, limit: size },
        },
      );
    }
    throw failed(target, `${step} (download of ${size} bytes)`, err);
  }
}

function callOptions(target: SandboxTarget) {
  const { signal, timeoutMs } = target.options;
  return { ...(signal ? { signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

function failed(target: SandboxTarget, step: string, err: unknown, moreHint = ""): SyncError {
  const code = err instanceof MsbvError ? ` (${err.code})` : "";
  return new SyncError(
    ErrorCodes.SYNC_FAILED,
    `Sync ${step} failed through the file channel of sandbox "${target.name}"${code}: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`,
    {
      cause: err,
      hint: `check that the sandbox is still running and the server reachable; \`channel: "command"\` uses sandbox.command.run instead (the host folder was not changed by this step)${moreHint}`,
      details: { step, sandbox: target.name },
    },
  );
}
