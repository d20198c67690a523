import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { ErrorCodes } from "../errors/codes.js";
import { ServerError } from "../errors/errors.js";
import type { CallOptions } from "./backend.js";
import { readBoundedMessage, streamBoundedMessage } from "./bounded-body.js";
import { composeCallSignal } from "./call-signal.js";

// Client of the dev server's sync file channel (docs/protocol.md#dev-sync-channel): raw bytes over
// HTTP instead of base64 in JSON through `sandbox.command.run`. Only sync mode uses it, and only when
// the server advertised it (`syncChannel` in `msbv.capabilities`); a legacy server never sees these requests.

/** What a written file must be: checked in the sandbox before the file appears at its path. */
export interface PutCheck {
  /** SHA-256 (lowercase hex) of the file as it must end up. */
  sha256: string;
  /** Size of the file as it must end up. */
  size: number;
  /** `gzip`: the body is gzip data the sandbox unpacks on the way (never past `size`). Default identity. */
  encoding?: "identity" | "gzip";
  /** Permission bits (0-0o777) the file gets before it appears; default as the sandbox creates files. */
  mode?: number;
  /** Modification time (ms since the epoch) the file gets before it appears; default now. */
  mtimeMs?: number;
  /** Make the file's missing parent folders first (as `mkdir -p` in the sandbox); default: they must exist. */
  createParents?: boolean;
}

/**
 * A body made piece by piece while it is sent (a file too large to hold): `produce` hands each piece to
 * `write`, whose promise settles once the piece is with the socket, so the producer may then reuse its
 * buffer. Exactly `size` bytes must come; fewer or more abort the request (nothing is written).
 */
export interface StreamedBody {
  readonly size: number;
  produce(write: (piece: Uint8Array) => Promise<void>): Promise<void>;
}

/** What `put` sends: bytes in memory (one buffer or consecutive pieces), or a {@link StreamedBody}. */
export type PutBody = Uint8Array | readonly Uint8Array[] | StreamedBody;

/** A raw file channel into a sandbox's files (written and read by a process inside the sandbox). */
export interface FileChannel {
  /** Largest file the server takes or gives in one request. */
  readonly maxBytes: number;
  /**
   * Whether gzip is worth trying on this channel. Not on loopback: there the raw bytes cross faster than
   * gzip -1 can pack them, so compressing only costs CPU (measured in bench/sync.mjs).
   */
  readonly compress: boolean;
  /**
   * Writes `body` to the absolute sandbox path (created or replaced). The sandbox hashes the bytes as it
   * writes them and renames the file into place only when they match `check`; otherwise the path is left
   * as it was and the call fails.
   */
  put(sandbox: string, path: string, body: PutBody, check: PutCheck, options?: CallOptions): Promise<void>;
  /**
   * Reads at most `length` bytes of the sandbox file, handing each piece to `receive` as it arrives, in
   * order (the channel neither joins nor keeps them: the caller hashes a piece while the next one is
   * still on the way, and holds what it means to keep). Resolves once the whole answer was received. A
   * server that sends more fails with MSBV_RESPONSE_TOO_LARGE after at most `length` bytes were handed
   * over; a `receive` that throws ends the request with that error.
   */
  get(sandbox: string, path: string, length: number, receive: (piece: Buffer) => void, options?: CallOptions): Promise<void>;
}

export interface HttpFileChannelOptions {
  /** Base URL of the server (http or https). */
  url: string;
  /** The route the server advertised (a path on the same origin). */
  route: string;
  maxBytes: number;
  /** See {@link FileChannel.compress}. */
  compress: boolean;
  headers: Record<string, string>;
}

/** A response whose body is still to be read. */
type Answer = { status: number; headers: IncomingHttpHeaders; body: IncomingMessage };

// node:http rather than fetch: undici's fetch copies every body chunk through web streams, which
// measured 550 ms for a 64 MiB PUT on loopback against 65 ms here. (The backend's `fetch` option is for
// the JSON-RPC calls; this channel is only ever offered by our dev server.)
const agents = { "http:": new HttpAgent({ keepAlive: true }), "https:": new HttpsAgent({ keepAlive: true }) };

export class HttpFileChannel implements FileChannel {
  readonly maxBytes: number;
  readonly compress: boolean;
  readonly #o: HttpFileChannelOptions;

  constructor(options: HttpFileChannelOptions) {
    this.#o = options;
    this.maxBytes = options.maxBytes;
    this.compress = options.compress;
  }

  async put(sandbox: string, path: string, body: PutBody, check: PutCheck, options?: CallOptions): Promise<void> {
    const encoding = check.encoding ?? "identity";
    const query = {
      sandbox,
      path,
      sha256: check.sha256,
      ...(encoding === "gzip" ? { encoding, size: String(check.size) } : {}),
      ...(check.mode !== undefined ? { mode: (check.mode & 0o777).toString(8) } : {}),
      ...(check.mtimeMs !== undefined ? { mtime: (check.mtimeMs / 1000).toFixed(3) } : {}),
      ...(check.createParents ? { parents: "1" } : {}),
    };
    await this.#exchange("PUT", query, options, body, async (res) => {
      const text = await readErrorText(res.body);
      if (res.status !== 204 && res.status !== 200) throw this.#failed("PUT", res.status, text);
    });
  }

  async get(sandbox: string, path: string, length: number, receive: (piece: Buffer) => void, options?: CallOptions): Promise<void> {
    // The caller's own error is its to see, not to be reported as a transport failure.
    let refused: { err: unknown } | undefined;
    const hand = (piece: Buffer) => {
      try {
        receive(piece);
      } catch (err) {
        refused = { err };
        throw err;
      }
    };
    await this.#exchange("GET", { sandbox, path, length: String(length) }, options, undefined, async (res) => {
      if (res.status !== 200) throw this.#failed("GET", res.status, await readErrorText(res.body));
      const tooLarge = () =>
        new ServerError(
          ErrorCodes.RESPONSE_TOO_LARGE,
          `The sync file channel of ${this.#o.url} sent more than the ${length} bytes asked for ${path}; it was not read further`,
          res.status,
          {
            hint: "the server or the sandbox misbehaves; nothing was written on the host",
            details: { url: this.#o.url, limit: length },
          },
        );
      if (!(await streamBoundedMessage(res.body, length, "destroy", hand))) throw tooLarge();
    }).catch((err: unknown) => {
      throw refused ? refused.err : err;
    });
  }

  /** One request; `handle` reads the answer. Transport failures (and the caller's abort or time limit) become typed errors. */
  async #exchange<T>(
    method: "GET" | "PUT",
    query: Record<string, string>,
    options: CallOptions | undefined,
    body: PutBody | undefined,
    handle: (res: Answer) => Promise<T>,
  ): Promise<T> {
    const call = composeCallSignal(options);
    const url = new URL(`${this.#o.url}${this.#o.route}?${new URLSearchParams(query).toString()}`);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
    const headers: Record<string, string | number> = { ...this.#o.headers };
    const streamed = body !== undefined && isStreamed(body) ? body : undefined;
    const parts = body === undefined || streamed ? [] : body instanceof Uint8Array ? [body] : (body as readonly Uint8Array[]);
    if (body) Object.assign(headers, { "Content-Type": "application/octet-stream", "Content-Length": bodySize(body) });
    let req: ClientRequest | undefined;
    // A streamed body's own failure (its file shrank, a read failed) is reported as itself, not as a transport error.
    let producer: { error: unknown } | undefined;
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const r = send(url, { method, headers, agent, ...(call.signal ? { signal: call.signal } : {}) }, resolve);
        req = r;
        r.on("error", reject);
        if (!streamed) {
          for (const part of parts) r.write(part);
          r.end();
          return;
        }
        sendStreamed(r, streamed).then(
          () => r.end(),
          (error: unknown) => {
            producer ??= { error };
            r.destroy();
            reject(error);
          },
        );
      });
      try {
        return await handle({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      } finally {
        // Whatever was not read (a refusal, an oversized answer) is not waited for.
        if (!res.complete) res.destroy();
      }
    } catch (err) {
      if (err instanceof ServerError) throw err;
      req?.destroy();
      if (producer) throw producer.error;
      const why = call.callerAborted() ? "aborted by the caller" : call.timedOut() ? `timed out after ${call.timeoutMs} ms` : "could not connect";
      throw new ServerError(
        call.callerAborted() ? ErrorCodes.ABORTED : call.timedOut() ? ErrorCodes.TIMEOUT : ErrorCodes.CONNECTION_FAILED,
        `Sync file channel ${method} at ${this.#o.url}: ${why}: ${err instanceof Error ? err.message : String(err)}`,
        undefined,
        {
          cause: err,
          hint: "check that the server is running; sync falls back to nothing by itself, retry the sync",
        },
      );
    }
  }

  #failed(method: string, status: number, text: string): ServerError {
    return new ServerError(
      ErrorCodes.SERVER_ERROR,
      `Sync file channel ${method} at ${this.#o.url} answered ${status}: ${text.slice(0, 300)}`,
      status,
      {
        hint: "see the server's message; the host folder was not changed by this step",
        details: { url: this.#o.url, status },
      },
    );
  }
}

export function isStreamed(body: PutBody): body is StreamedBody {
  return typeof (body as Partial<StreamedBody>).produce === "function";
}

/** Bytes a `put` body carries (its Content-Length). */
export function bodySize(body: PutBody): number {
  if (isStreamed(body)) return body.size;
  return body instanceof Uint8Array ? body.byteLength : body.reduce((n, p) => n + p.byteLength, 0);
}

/** Writes the pieces of `body` as they are made, each one with the socket before the next is asked for. */
async function sendStreamed(req: ClientRequest, body: StreamedBody): Promise<void> {
  let sent = 0;
  await body.produce(async (piece) => {
    sent += piece.byteLength;
    if (sent > body.size) throw new Error(`the streamed body is longer than its declared ${body.size} bytes`);
    await new Promise<void>((resolve, reject) => req.write(piece, (err) => (err ? reject(err) : resolve())));
  });
  if (sent !== body.size) throw new Error(`the streamed body ended after ${sent} of its declared ${body.size} bytes`);
}

/** A refusal's text, at most 64 KiB of it (a longer one is cut to nothing: the status still says why). */
async function readErrorText(body: IncomingMessage): Promise<string> {
  return Buffer.concat((await readBoundedMessage(body, 64 * 1024, "destroy")) ?? []).toString("utf8");
}
