import type { IncomingMessage, ServerResponse } from "node:http";
import { SandboxStateError } from "../../errors/errors.js";
import { sandboxNameProblem } from "../../names/sandbox-name.js";
import { readSandboxFile, SandboxStreamError, writeSandboxFile } from "../runtime/sandbox-file-stream.js";
import type { SandboxRuntime } from "../runtime/types.js";

// Dev-server extra, not legacy: the sync file channel (docs/protocol.md#dev-sync-channel). Raw bytes
// instead of base64 in JSON through `sandbox.command.run`, for sync mode's archives and listings.
// It gives an authenticated caller nothing `sandbox.command.run` does not (that already runs any command
// in the sandbox); the bytes are written and read by a process inside the sandbox
// (src/server/runtime/sandbox-file-stream.ts), never through a host path.

/** The route; advertised in `msbv.capabilities` (`syncChannel`). */
export const SYNC_FILE_ROUTE = "/_dev/sync/file";
/** Largest file one request may carry either way. */
export const SYNC_FILE_MAX_BYTES = 2 * 1024 * 1024 * 1024;
/** Version of the route's contract (docs/protocol.md#dev-sync-channel); 2: verified writes, streamed; 3: `mode` and `mtime` on writes. */
export const SYNC_FILE_VERSION = 3;
/** Transfers served at once; more wait their turn (each holds up to a window each way in memory). */
const MAX_ACTIVE = 4;
const MAX_PATH_CHARS = 4096;

let active = 0;
const waiting: Array<() => void> = [];

async function turn<T>(fn: () => Promise<T>): Promise<T> {
  if (active >= MAX_ACTIVE) await new Promise<void>((resolve) => waiting.push(resolve));
  active++;
  try {
    return await fn();
  } finally {
    active--;
    waiting.shift()?.();
  }
}

/** Handles `PUT` (write a sandbox file from the body) and `GET` (read one) of {@link SYNC_FILE_ROUTE}. Auth is the router's job. */
export async function handleSyncFile(req: IncomingMessage, res: ServerResponse, runtime: Pick<SandboxRuntime, "spawnRaw">): Promise<void> {
  const spawn = runtime.spawnRaw?.bind(runtime);
  if (!spawn) return refuse(res, 404, "This server's runtime has no sync file channel; use sandbox.command.run.");
  const query = new URL(req.url ?? "/", "http://x").searchParams;
  const sandbox = query.get("sandbox") ?? "";
  const path = query.get("path") ?? "";
  const nameProblem = sandboxNameProblem(sandbox);
  if (nameProblem) return refuse(res, 400, `Invalid sandbox name ${JSON.stringify(sandbox)} (${nameProblem}).`);
  if (!path.startsWith("/") || path.length > MAX_PATH_CHARS || path.includes("\0")) {
    return refuse(
      res,
      400,
      `Invalid path ${JSON.stringify(path.slice(0, 100))}: give an absolute path inside the sandbox (at most ${MAX_PATH_CHARS} characters, no NUL).`,
    );
  }
  try {
    if (req.method === "PUT") await put(req, res, spawn, sandbox, path);
    else await get(res, spawn, sandbox, path, query.get("length"));
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof SandboxStreamError) return refuse(res, 422, `Transfer in sandbox "${sandbox}" failed: ${err.message}`);
    if (err instanceof SandboxStateError) return refuse(res, 404, err.message);
    throw err;
  }
}

async function put(
  req: IncomingMessage,
  res: ServerResponse,
  spawn: NonNullable<SandboxRuntime["spawnRaw"]>,
  sandbox: string,
  path: string,
): Promise<void> {
  const declared = req.headers["content-length"];
  if (declared === undefined || req.headers["transfer-encoding"] !== undefined) {
    return refuse(res, 411, "Send the file with a Content-Length (no chunked encoding).");
  }
  const size = Number(declared);
  if (!Number.isSafeInteger(size) || size < 0) return refuse(res, 400, `Invalid Content-Length ${JSON.stringify(declared)}.`);
  if (size > SYNC_FILE_MAX_BYTES) return refuse(res, 413, `The file is larger than ${SYNC_FILE_MAX_BYTES} bytes; this channel refuses it.`);
  if (!isOctetStream(req.headers["content-type"])) return refuse(res, 415, "Expected `Content-Type: application/octet-stream`.");
  const query = new URL(req.url ?? "/", "http://x").searchParams;
  const sha256 = query.get("sha256") ?? "";
  if (!/^[0-9a-f]{64}$/.test(sha256))
    return refuse(res, 400, "Give `sha256`: the SHA-256 (lowercase hex) the file must have; it is verified before the file is written.");
  const encoding = query.get("encoding") ?? "identity";
  if (encoding !== "identity" && encoding !== "gzip") return refuse(res, 400, "`encoding` is `identity` (default) or `gzip`.");
  let fileSize = size;
  if (encoding === "gzip") {
    const sizeParam = query.get("size") ?? "";
    fileSize = Number(sizeParam);
    if (!/^\d+$/.test(sizeParam) || !Number.isSafeInteger(fileSize)) return refuse(res, 400, "Give `size`: the file's size once unpacked.");
    if (fileSize > SYNC_FILE_MAX_BYTES) return refuse(res, 413, `The file is larger than ${SYNC_FILE_MAX_BYTES} bytes; this channel refuses it.`);
  }
  const modeParam = query.get("mode");
  if (modeParam !== null && !/^[0-7]{1,3}$/.test(modeParam))
    return refuse(res, 400, "`mode` is the file's permission bits in octal, 0 to 777 (no set-id bits).");
  const mtimeParam = query.get("mtime");
  // Negative: a host file dated before 1970 keeps its date too.
  if (mtimeParam !== null && !/^-?\d{1,12}(\.\d{1,9})?$/.test(mtimeParam))
    return refuse(res, 400, "`mtime` is the file's modification time in seconds since the epoch, e.g. 1700000000.123 (negative before 1970).");
  const parentsParam = query.get("parents");
  if (parentsParam !== null && parentsParam !== "1")
    return refuse(res, 400, "`parents=1` makes the file's missing parent folders; leave it out otherwise.");
  const stamp = {
    ...(parentsParam === "1" ? { parents: true } : {}),
    ...(modeParam !== null ? { mode: Number.parseInt(modeParam, 8) } : {}),
    ...(mtimeParam !== null ? { mtime: Number(mtimeParam) } : {}),
  };
  await turn(() => writeSandboxFile(spawn, sandbox, path, req, size, { sha256, encoding, size: fileSize, ...stamp }));
  res.writeHead(204);
  res.end();
}

async function get(
  res: ServerResponse,
  spawn: NonNullable<SandboxRuntime["spawnRaw"]>,
  sandbox: string,
  path: string,
  lengthParam: string | null,
): Promise<void> {
  const length = Number(lengthParam);
  if (lengthParam === null || !/^\d+$/.test(lengthParam) || !Number.isSafeInteger(length)) {
    return refuse(res, 400, "Give `length`: the most bytes to read (the client knows the size it accepts).");
  }
  if (length > SYNC_FILE_MAX_BYTES) return refuse(res, 413, `At most ${SYNC_FILE_MAX_BYTES} bytes can be read at once.`);
  await turn(() =>
    readSandboxFile(spawn, sandbox, path, length, async (chunk) => {
      // Headers wait for the first bytes, so a missing file is a clean 422 rather than a cut stream.
      if (!res.headersSent) res.writeHead(200, { "content-type": "application/octet-stream" });
      if (!res.write(chunk)) await drained(res);
    }),
  );
  if (!res.headersSent) res.writeHead(200, { "content-type": "application/octet-stream" });
  res.end();
}

/** Resolves when the response can take more, rejects when the client went away (the read then stops). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    // Already gone: neither event would come, and the transfer would hold its turn for ever.
    if (res.destroyed) return reject(new Error("the client went away"));
    const onDrain = () => {
      res.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      res.off("drain", onDrain);
      reject(new Error("the client went away"));
    };
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

function isOctetStream(header: string | undefined): boolean {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() === "application/octet-stream";
}

function refuse(res: ServerResponse, status: number, text: string): void {
  // The body of a refused PUT is not read; closing stops the client from sending it.
  res.setHeader("connection", "close");
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
