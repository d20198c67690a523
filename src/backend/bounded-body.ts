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
