// Transport: Node's built-in fetch (undici), not node-fetch as the upstream SDK used. On Node >= 22
// it keeps connections alive by default (one pooled agent per origin), honours AbortSignal
// (composed with AbortSignal.any/AbortSignal.timeout for per-call limits) and costs no dependency.
// node-fetch@2 has none of the timeout plumbing and is CommonJS-only.
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { BackendCapabilities, CallOptions, SandboxBackend, StartCallOptions } from "./backend.js";
import { DEFAULT_MAX_RESPONSE_BYTES, readBoundedText } from "./bounded-body.js";
import { composeCallSignal } from "./call-signal.js";
import { HttpFileChannel, type FileChannel } from "./file-channel.js";
import { isLocalServerUrl } from "./local-url.js";
import { toServerError, type RpcFailure } from "./rpc-errors.js";
import { ErrorCodes } from "../errors/codes.js";
import { InvalidOptionError, ServerError } from "../errors/errors.js";
import {
  capabilitiesSchema,
  commandResultSchema,
  envelopeSchema,
  messageResultSchema,
  metricsResultSchema,
  replResultSchema,
} from "./rpc-schemas.js";
import { toWireStartConfig } from "./rpc-wire.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import { volumesForServer, type SharedFilesystemMapping } from "./shared-filesystem.js";
import type { WireCommandResult, WireMetricsRow, WireReplResult } from "./wire.js";

/** Options of {@link RpcBackend}. */
export interface RpcBackendOptions {
  /** Server base URL, e.g. `http://127.0.0.1:5555` (no `/api/v1/rpc`). */
  url: string;
  /** Sent as `Authorization: Bearer <key>` when set. Never appears in errors. */
  apiKey?: string;
  /** Namespace param sent on every call; Gen A servers require it, Gen B ignore it. Default `"default"`. */
  namespace?: string;
  /** Replacement fetch (tests, proxies). Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /**
   * Largest answer the client reads, in bytes; a larger one fails with MSBV_RESPONSE_TOO_LARGE after at
   * most this many bytes were held. Default 64 MiB.
   */
  maxResponseBytes?: number;
  /**
   * For a server on another machine that sees this machine's files (e.g. NFS): host prefix → server
   * prefix. Without it, host-path volumes sent to a non-local server are refused.
   */
  sharedFilesystem?: SharedFilesystemMapping[];
}

// Failures that say nothing about the method: the server was not reached or refused us.
const TRANSPORT_CODES: readonly string[] = [ErrorCodes.CONNECTION_FAILED, ErrorCodes.ABORTED, ErrorCodes.TIMEOUT, ErrorCodes.AUTH_FAILED];

/** The sync file channel contract this client speaks (docs/protocol.md#dev-sync-channel). */
const SYNC_CHANNEL_VERSION = 3;

interface Probed {
  capabilities: BackendCapabilities;
  fileChannel?: FileChannel;
}

/** Extra time the start request gets beyond the sandbox start timeout, as the upstream Python SDK. */
const START_GRACE_MS = 30_000;
/** Upstream default start timeout in seconds (the one definition). */
export const DEFAULT_START_TIMEOUT_S = 180;

/**
 * {@link SandboxBackend} over the legacy microsandbox JSON-RPC API (`POST {url}/api/v1/rpc`),
 * also spoken by `msbv dev-server`. Works with both server generations: always sends
 * `namespace` and a UUID `id`.
 */
export class RpcBackend implements SandboxBackend {
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #namespace: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #maxResponseBytes: number;
  readonly #shared: readonly SharedFilesystemMapping[] | undefined;
  /** The one `msbv.capabilities` answer, shared by {@link capabilities} and {@link fileChannel}. */
  #probed: Promise<Probed> | undefined;

  constructor(options: RpcBackendOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.#apiKey = options.apiKey || undefined;
    this.#namespace = options.namespace ?? "default";
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!Number.isSafeInteger(this.#maxResponseBytes) || this.#maxResponseBytes <= 0) {
      throw new InvalidOptionError(`maxResponseBytes must be a positive integer, got ${String(options.maxResponseBytes)}`, {
        hint: "omit it for the 64 MiB default",
      });
    }
    this.#shared = options.sharedFilesystem;
  }

  /**
   * Asks `msbv.capabilities` once. A legacy server has no such method (it answers "method not found"
   * or another error): no read-only mounts, no sync file channel, nothing else assumed. Transport
   * failures are thrown, and not cached, so a later call asks again.
   */
  async capabilities(options?: CallOptions): Promise<BackendCapabilities> {
    return (await this.#probe(options)).capabilities;
  }

  #probe(options: CallOptions | undefined): Promise<Probed> {
    this.#probed ??= this.#ask(options).catch((err: unknown) => {
      this.#probed = undefined;
      throw err;
    });
    return this.#probed;
  }

  async #ask(options: CallOptions | undefined): Promise<Probed> {
    const localHostPaths = isLocalServerUrl(this.url);
    let caps: z.output<typeof capabilitiesSchema>;
    try {
      caps = await this.#call("msbv.capabilities", {}, capabilitiesSchema, "Failed to query server capabilities", options);
    } catch (err) {
      if (err instanceof ServerError && TRANSPORT_CODES.includes(err.code)) throw err;
      return { capabilities: { readonlyVolumes: false, localHostPaths } };
    }
    const capabilities = { readonlyVolumes: caps.readonlyVolumes === true, localHostPaths };
    const sync = caps.syncChannel;
    // Only the contract this client speaks, and only a path on the same origin (never another host).
    if (!sync || sync.version !== SYNC_CHANNEL_VERSION || !sync.route.startsWith("/") || sync.route.startsWith("//")) return { capabilities };
    const headers: Record<string, string> = this.#apiKey ? { Authorization: `Bearer ${this.#apiKey}` } : {};
    const fileChannel = new HttpFileChannel({
      url: this.url,
      route: sync.route,
      maxBytes: sync.maxBytes,
      compress: !localHostPaths,
      headers,
    });
    return { capabilities, fileChannel };
  }

  /**
   * Converts the spec to the legacy wire (shared-filesystem mapping, `"host:guest"` strings,
   * `readonly_volumes` only when advertised), hands it to `options.onRequest`, then sends it.
   */
  async start(spec: SandboxSpec, options?: StartCallOptions): Promise<string> {
    const startS = options?.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_S;
    // Refused before any request: host paths a remote server would resolve on its own disk.
    const volumes = volumesForServer(spec.volumes, isLocalServerUrl(this.url), this.url, this.#shared);
    // Asked only when it matters, so a plain start sends exactly one request, as upstream.
    const readonlyVolumes = spec.volumes.some((v) => v.readonly) && (await this.capabilities(options)).readonlyVolumes;
    const config = toWireStartConfig({ ...spec, volumes }, { readonlyVolumes });
    await options?.onRequest?.(config as unknown as Record<string, unknown>);
    const result = await this.#call(
      "sandbox.start",
      { sandbox: spec.name, config },
      messageResultSchema,
      "Failed to start sandbox",
      { ...options, timeoutMs: options?.timeoutMs ?? startS * 1000 + START_GRACE_MS },
      "the start `timeout` (seconds) or `timeoutMs`",
    );
    if (result.includes("timed out waiting")) {
      process.emitWarning(result, { type: "MicrosandboxWarning", code: "MSBV_START_UNVERIFIED" });
    }
    return result;
  }

  stop(name: string, options?: CallOptions): Promise<string> {
    return this.#call("sandbox.stop", { sandbox: name }, messageResultSchema, "Failed to stop sandbox", options);
  }

  runCode(name: string, language: string, code: string, timeoutSeconds: number | undefined, options?: CallOptions): Promise<WireReplResult> {
    const params = { sandbox: name, language, code, ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds } : {}) };
    return this.#call("sandbox.repl.run", params, replResultSchema, "Failed to execute code", options);
  }

  runCommand(name: string, command: string, args: string[], timeoutSeconds: number | undefined, options?: CallOptions): Promise<WireCommandResult> {
    const params = { sandbox: name, command, args, ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds } : {}) };
    return this.#call("sandbox.command.run", params, commandResultSchema, "Failed to execute command", options);
  }

  async metrics(name: string | undefined, options?: CallOptions): Promise<WireMetricsRow[]> {
    const params = name !== undefined ? { sandbox: name } : {};
    const result = await this.#call("sandbox.metrics.get", params, metricsResultSchema, "Failed to get sandbox metrics", options);
    return result.sandboxes;
  }

  /**
   * The dev server's sync file channel, when its `msbv.capabilities` answer advertises one (`syncChannel`);
   * `undefined` for a legacy server (method not found), so sync falls back to `runCommand`. The same one
   * probe as {@link capabilities}. A caller's abort is thrown; another transport failure means no channel
   * for this call (not remembered: the next call asks again).
   */
  async fileChannel(options?: CallOptions): Promise<FileChannel | undefined> {
    try {
      return (await this.#probe(options)).fileChannel;
    } catch (err) {
      if (options?.signal?.aborted) throw err;
      return undefined;
    }
  }

  async #call<S extends z.ZodType>(
    method: string,
    params: Record<string, unknown>,
    schema: S,
    action: string,
    options: CallOptions | undefined,
    timeoutOption = "`timeoutMs`",
  ): Promise<z.output<S>> {
    const ctx = { action, method, url: this.url, apiKey: this.#apiKey, timeoutOption };
    const fail = (failure: RpcFailure) => toServerError(failure, ctx);
    const call = composeCallSignal(options);
    const body = JSON.stringify({
      jsonrpc: "2.0",
      method,
      params: { ...params, namespace: this.#namespace },
      id: randomUUID(),
    });
    const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
    if (this.#apiKey) headers.Authorization = `Bearer ${this.#apiKey}`;

    let status: number;
    let text: string;
    try {
      const res = await this.#fetch(`${this.url}/api/v1/rpc`, {
        method: "POST",
        headers,
        body,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      status = res.status;
      text = await readBoundedText(res, this.#maxResponseBytes, ctx);
    } catch (err) {
      if (err instanceof ServerError && err.code === ErrorCodes.RESPONSE_TOO_LARGE) throw err;
      if (call.callerAborted()) throw fail({ kind: "aborted", cause: err });
      if (call.timedOut()) throw fail({ kind: "timeout", cause: err, timeoutMs: call.timeoutMs });
      throw fail({ kind: "network", cause: err });
    }

    if (status !== 200) throw fail({ kind: "status", status, body: text });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw fail({ kind: "malformed", detail: "not JSON", body: text, cause: err });
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw fail({ kind: "malformed", detail: "not a JSON-RPC response object", body: text });
    const { error, result } = envelope.data;
    if (error !== undefined) {
      throw fail({ kind: "rpc-error", rpcCode: error.code, rpcMessage: error.message ?? JSON.stringify(error) });
    }
    const parsed = schema.safeParse(result);
    if (!parsed.success) {
      throw fail({
        kind: "malformed",
        detail: `result does not match ${method}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "result"} ${i.message}`).join("; ")}`,
        body: text,
      });
    }
    return parsed.data;
  }
}
