import { ErrorCodes } from "../../errors/codes.js";
import { MsbvError } from "../../errors/msbv-error.js";

// The legacy server mixes three error shapes (docs/protocol.md#errors). This module owns the two JSON ones:
// JSON-RPC envelopes for envelope-level problems, `{error, code}` REST objects for everything a
// method raises. Framework (plain-text) rejections live in http-server.ts.

/** A parsed request whose envelope passed the framework checks (object with string jsonrpc + method). */
export interface RpcRequest {
  jsonrpc: string;
  method: string;
  params: unknown;
  /** `hasId` distinguishes `"id": null` (echoed) from an absent id (omitted in the answer). */
  hasId: boolean;
  id: unknown;
}

/** Status + JSON body; what every layer of the server hands back to the HTTP writer. */
export interface JsonReply {
  status: number;
  body: unknown;
}

/** A plain-text framework rejection (axum's `JsonRejection`), e.g. 422. */
export interface TextReply {
  status: number;
  text: string;
}

/** REST-shaped codes of the legacy server. */
export const RestCodes = {
  INVALID_CREDENTIALS: 1001,
  INVALID_TOKEN: 1004,
  VALIDATION: 2001,
  NOT_FOUND: 4001,
  INTERNAL: 5002,
} as const;

/** The literal every internal failure shows on the wire; the cause goes to the log only. */
export const INTERNAL_MESSAGE = "Internal server error";

/**
 * Raised inside method handlers; becomes a REST error object. Never leaves the server module.
 * `wireMessage` is the exact text put on the wire; `message` may carry more (for logs).
 */
export class RpcRestError extends MsbvError {
  readonly status: number;
  readonly restCode: number;
  readonly wireMessage: string;

  constructor(status: number, restCode: number, wireMessage: string, options: { cause?: unknown; logMessage?: string } = {}) {
    super(status >= 500 ? ErrorCodes.DEV_SERVER : ErrorCodes.INVALID_OPTION, options.logMessage ?? wireMessage, { cause: options.cause });
    this.status = status;
    this.restCode = restCode;
    this.wireMessage = wireMessage;
  }
}

/** 400/2001 with an exact wire message. */
export function validationError(message: string): RpcRestError {
  return new RpcRestError(400, RestCodes.VALIDATION, message);
}

/** 500/5002 `Internal server error`; `logMessage` is the real cause, written to the log only. */
export function internalError(logMessage: string, cause?: unknown): RpcRestError {
  return new RpcRestError(500, RestCodes.INTERNAL, INTERNAL_MESSAGE, { logMessage, cause });
}

/** `data` is our addition (see error-data.ts); legacy clients read only `error` and `code`. */
export function restErrorReply(status: number, message: string, code: number, data?: unknown): JsonReply {
  return { status, body: data === undefined ? { error: message, code } : { error: message, code, data } };
}

export function rpcSuccess(req: RpcRequest, result: unknown): JsonReply {
  return { status: 200, body: withId({ jsonrpc: "2.0", result }, req) };
}

export function rpcErrorReply(req: RpcRequest, status: number, code: number, message: string): JsonReply {
  return { status, body: withId({ jsonrpc: "2.0", error: { code, message } }, req) };
}

function withId(body: Record<string, unknown>, req: RpcRequest): Record<string, unknown> {
  return req.hasId ? { ...body, id: req.id } : body;
}

/**
 * Framework-level shape check (axum's `Json<JsonRpcRequest>` → 422 when it does not fit).
 * Returns the request or a description of what is wrong.
 */
export function toRpcRequest(value: unknown): RpcRequest | { problem: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problem: `invalid type: ${describeJson(value)}, expected struct JsonRpcRequest` };
  }
  const obj = value as Record<string, unknown>;
  for (const field of ["jsonrpc", "method"] as const) {
    if (!(field in obj)) return { problem: `missing field \`${field}\`` };
    if (typeof obj[field] !== "string") {
      return { problem: `${field}: invalid type: ${describeJson(obj[field])}, expected a string` };
    }
  }
  return {
    jsonrpc: obj.jsonrpc as string,
    method: obj.method as string,
    params: "params" in obj ? obj.params : null,
    hasId: "id" in obj,
    id: obj.id,
  };
}

/** serde-like description of a JSON value's type, for messages. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "sequence";
  if (typeof value === "object") return "map";
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
  if (typeof value === "boolean") return `boolean \`${value}\``;
  return typeof value;
}
