import type { IncomingMessage } from "node:http";
import { ErrorCodes } from "../errors/codes.js";
import { ServerError } from "../errors/errors.js";

/** Default cap on one server answer: far above any legitimate reply, far below what hurts a laptop. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The response body as text, read as a stream and abandoned as soon as it passes `limit` bytes (a
 * declared Content-Length over the limit fails before reading anything). A server that answers 1 GB
 * costs the client at most `limit` bytes, and the call fails with MSBV_RESPONSE_TOO_LARGE, not as an
 * out-of-memory crash or a "connection failed".
 */
export async function readBoundedText(res: Response, limit: number, what: { action: string; method: string; url: string }): Promise<string> {
  const tooLarge = (seen: string) =>
    new ServerError(
      ErrorCodes.RESPONSE_TOO_LARGE,
      `${what.action}: the answer of ${what.method} at ${what.url} is larger than ${limit} bytes (${seen}); it was not read further`,
      res.status,
      {
        hint: "check the server; if a legitimate answer is this large, raise `maxResponseBytes`, or have the command write to a file in a volume",
        details: { method: what.method, url: what.url, limit },
      },
    );
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(`Content-Length ${declared}`);
  }
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`over ${limit} bytes received`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

/**
 * A Node HTTP message's body as the chunks it arrived in (not joined: a large body is not copied once
 * more), or `undefined` as soon as more than `limit` bytes arrived; see {@link streamBoundedMessage}.
 * Used on both sides of the wire: the dev server's request bodies and the sync file channel's refusals.
 */
export async function readBoundedMessage(message: IncomingMessage, limit: number, onOverflow: "destroy" | "pause"): Promise<Buffer[] | undefined> {
  const chunks: Buffer[] = [];
  return (await streamBoundedMessage(message, limit, onOverflow, (chunk) => void chunks.push(chunk))) ? chunks : undefined;
}

/**
 * Hands a Node HTTP message's body to `receive` chunk by chunk as it arrives, in order, and resolves
 * `true` at its end; or `false` as soon as more than `limit` bytes arrived (the chunk that crossed the
 * limit is not handed over); reading then stops and the message is destroyed (`"destroy"`: an answer we
 * will not use) or paused (`"pause"`: a request still to be answered, with the connection closed after).
 * A message cut off before its end rejects: a cut body is a failure, never a short result. So does a
 * `receive` that throws (the message is then destroyed). The sync file channel's downloads use it
 * directly, so the client hashes each chunk while the next is still on the way.
 */
export function streamBoundedMessage(
  message: IncomingMessage,
  limit: number,
  onOverflow: "destroy" | "pause",
  receive: (chunk: Buffer) => void,
): Promise<boolean> {
  const declared = Number(message.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    if (onOverflow === "destroy") message.destroy();
    return Promise.resolve(false);
  }
  // 'data' events, not `for await`: the async iterator reads with `read()`, which joins every chunk
  // buffered meanwhile into a fresh copy; for a 64 MiB download that copying (and its garbage) measured
  // about half of the client's CPU time.
  return new Promise((resolve, reject) => {
    let size = 0;
    let stopped = false;
    const stop = () => {
      stopped = true;
      message.off("data", onData);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        if (onOverflow === "destroy") message.destroy();
        else message.pause();
        resolve(false);
        return;
      }
      try {
        receive(chunk);
      } catch (err) {
        stop();
        message.destroy();
        reject(err);
      }
    };
    message.on("data", onData);
    message.once("end", () => resolve(true));
    message.once("error", reject);
    message.once("close", () => {
      if (!message.complete && !stopped) reject(new Error("the connection closed before the whole body arrived"));
    });
  });
}
