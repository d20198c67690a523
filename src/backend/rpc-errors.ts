import { ErrorCodes, type ErrorCode } from "../errors/codes.js";
import { SandboxStateError, ServerError } from "../errors/errors.js";
import type { MsbvError } from "../errors/msbv-error.js";
import { redactSecrets } from "../errors/redact.js";

/** Everything that can go wrong on one JSON-RPC round trip, before it becomes an error. */
export type RpcFailure =
  | { kind: "network"; cause: unknown }
  | { kind: "aborted"; cause: unknown }
  | { kind: "timeout"; cause: unknown; timeoutMs: number | undefined }
  | { kind: "status"; status: number; body: string }
  | { kind: "rpc-error"; rpcCode: number | undefined; rpcMessage: string }
  | { kind: "malformed"; detail: string; body: string; cause?: unknown };

/** What the table needs to phrase a message: which call, where, and which secret to scrub. */
export interface RpcFailureContext {
  /** Upstream-style prefix, e.g. "Failed to execute code" (code may match on it). */
  action: string;
  method: string;
  url: string;
  apiKey: string | undefined;
  /** Option the user can raise when this call times out, e.g. "`timeoutMs`". */
  timeoutOption: string;
}

const MAX_BODY = 2_000;

/**
 * THE one mapping from transport/server failures to ServerError codes and hints. Every text that
 * may contain server output goes through redactSecrets (a server can echo the Authorization header).
 */
export function toServerError(failure: RpcFailure, ctx: RpcFailureContext): MsbvError {
  const scrub = (text: string): string => redactSecrets(text, ctx.apiKey ? [ctx.apiKey] : []);
  const where = `${ctx.method} at ${ctx.url}`;
  const make = (code: ErrorCode, what: string, status: number | undefined, cause: unknown, hint?: string) =>
    new ServerError(code, scrub(`${ctx.action}: ${what}`), status, {
      cause,
      ...(hint ? { hint } : {}),
      details: { method: ctx.method, url: ctx.url, ...(status !== undefined ? { status } : {}) },
    });

  switch (failure.kind) {
    case "network":
      return make(
        ErrorCodes.CONNECTION_FAILED,
        `could not reach the server for ${where} (${describeCause(failure.cause)})`,
        undefined,
        failure.cause,
        "start the server (e.g. `msbv dev-server`) or set MSB_SERVER_URL to the server's address",
      );
    case "aborted":
      return make(ErrorCodes.ABORTED, `${where} was aborted by the caller's signal`, undefined, failure.cause);
    case "timeout":
      return make(
        ErrorCodes.TIMEOUT,
        `${where} did not answer within ${failure.timeoutMs ?? "?"} ms`,
        undefined,
        failure.cause,
        `raise ${ctx.timeoutOption} if the call legitimately needs longer (image pulls, long code)`,
      );
    case "status": {
      if (failure.status === 401 || failure.status === 403) {
        return make(
          ErrorCodes.AUTH_FAILED,
          `${where} rejected the credentials (HTTP ${failure.status}): ${clip(failure.body)}`,
          failure.status,
          undefined,
          "set MSB_API_KEY (or the apiKey option) to a valid key; create one with `msbv keygen`",
        );
      }
      const reason = failure.status >= 500 ? serverReason(failure.body) : undefined;
      if (reason) {
        const what = `${where} failed: ${scrub(reason.cause)} (HTTP ${failure.status}, ${reason.kind})`;
        if (reason.kind === "not_started") {
          return new SandboxStateError(ErrorCodes.NOT_STARTED, scrub(`${ctx.action}: ${what}`), {
            hint: "the sandbox was stopped (perhaps by another client or `msbv stop`); call start() again",
            details: { method: ctx.method, url: ctx.url, status: failure.status, kind: reason.kind },
          });
        }
        if (reason.kind === "volume_replaced") {
          return new SandboxStateError(ErrorCodes.VOLUME_CONFLICT, scrub(`${ctx.action}: ${what}`), {
            ...(reason.hint ? { hint: scrub(reason.hint) } : {}),
            details: { method: ctx.method, url: ctx.url, status: failure.status, kind: reason.kind },
          });
        }
        const code = reason.kind === "timeout" ? ErrorCodes.TIMEOUT : ErrorCodes.SERVER_ERROR;
        const err = make(code, what, failure.status, undefined, reason.hint ? scrub(reason.hint) : undefined);
        err.details.kind = reason.kind;
        return err;
      }
      return make(
        ErrorCodes.SERVER_ERROR,
        `${where} returned HTTP ${failure.status}: ${clip(failure.body) || "(empty body)"}`,
        failure.status,
        undefined,
        failure.status === 500 ? "the legacy server hides internal causes; check the server log (or `msbv dev-server` output)" : undefined,
      );
    }
    case "rpc-error":
      return make(
        ErrorCodes.SERVER_ERROR,
        `${where} answered with a JSON-RPC error${failure.rpcCode !== undefined ? ` ${failure.rpcCode}` : ""}: ${clip(failure.rpcMessage)}`,
        200,
        undefined,
      );
    case "malformed":
      return make(
        ErrorCodes.PROTOCOL_ERROR,
        `${where} answered with an unexpected body (${failure.detail}): ${clip(failure.body)}`,
        200,
        failure.cause,
        "check that MSB_SERVER_URL points at a microsandbox server (or `msbv dev-server`), not another service",
      );
  }
}

/**
 * The cause our dev server adds to the legacy 500 body as `data` (docs/dev-server.md, "Error
 * causes"); a legacy server sends none, and then the generic message stays.
 */
function serverReason(body: string): { kind: string; cause: string; hint?: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null) return undefined;
  const data = (json as { data?: unknown }).data;
  if (typeof data !== "object" || data === null) return undefined;
  const { kind, cause, hint } = data as Record<string, unknown>;
  if (typeof kind !== "string" || typeof cause !== "string" || kind === "internal") return undefined;
  return { kind, cause: clip(cause), ...(typeof hint === "string" ? { hint: clip(hint) } : {}) };
}

function clip(text: string): string {
  const t = text.trim();
  return t.length > MAX_BODY ? `${t.slice(0, MAX_BODY)}… (${t.length - MAX_BODY} more characters)` : t;
}

function describeCause(cause: unknown): string {
  // undici wraps the socket error: TypeError("fetch failed") with cause { code: "ECONNREFUSED", … }.
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  if (inner instanceof Error) {
    const code = (inner as NodeJS.ErrnoException).code;
    return code ? `${code}: ${inner.message}` : inner.message;
  }
  return String(inner);
}
