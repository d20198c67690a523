import { ErrorCodes } from "../errors/codes.js";
import { ServerError } from "../errors/errors.js";
import type { CallOptions } from "./backend.js";
import { composeCallSignal } from "./call-signal.js";

// Client of the dev server's sync file channel (docs/protocol.md#dev-sync-channel): raw bytes over
// HTTP instead of base64 in JSON through `sandbox.command.run`. Only sync mode uses it, and only when
// the server advertised it (`msbv.sync_channel`); a legacy server never sees these requests.

/** A raw file channel into a sandbox's files (written and read by a process inside the sandbox). */
export interface FileChannel {
  /** Largest file the server takes or gives in one request. */
  readonly maxBytes: number;
  /** Writes `data` to the absolute sandbox path (created or truncated). */
  put(sandbox: string, path: string, data: Uint8Array, options?: CallOptions): Promise<void>;
  /**
   * Reads at most `length` bytes of the sandbox file. A server that sends more fails with
   * MSBV_RESPONSE_TOO_LARGE after at most `length` bytes were held.
   */
  get(sandbox: string, path: string, length: number, options?: CallOptions): Promise<Buffer>;
}

export interface HttpFileChannelOptions {
  /** Base URL of the server. */
  url: string;
  /** The route the server advertised (a path on the same origin). */
  route: string;
  maxBytes: number;
  headers: Record<string, string>;
  fetch: typeof globalThis.fetch;
}

export class HttpFileChannel implements FileChannel {
  readonly maxBytes: number;
  readonly #o: HttpFileChannelOptions;

  constructor(options: HttpFileChannelOptions) {
    this.#o = options;
    this.maxBytes = options.maxBytes;
  }

  async put(sandbox: string, path: string, data: Uint8Array, options?: CallOptions): Promise<void> {
    const res = await this.#request("PUT", { sandbox, path }, options, data);
    const text = await res.text().catch(() => "");
    if (res.status !== 204 && res.status !== 200) throw this.#failed("PUT", res.status, text);
  }

  async get(sandbox: string, path: string, length: number, options?: CallOptions): Promise<Buffer> {
    const res = await this.#request("GET", { sandbox, path, length: String(length) }, options);
    if (res.status !== 200) throw this.#failed("GET", res.status, await res.text().catch(() => ""));
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
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > length) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > length) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    return Buffer.concat(chunks, size);
  }

  async #request(method: "GET" | "PUT", query: Record<string, string>, options: CallOptions | undefined, body?: Uint8Array): Promise<Response> {
    const call = composeCallSignal(options);
    const url = `${this.#o.url}${this.#o.route}?${new URLSearchParams(query).toString()}`;
    try {
      return await this.#o.fetch(url, {
        method,
        headers: { ...this.#o.headers, ...(body ? { "Content-Type": "application/octet-stream" } : {}) },
        ...(body ? { body } : {}),
        ...(call.signal ? { signal: call.signal } : {}),
      });
    } catch (err) {
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
