import { redactSecrets } from "../../errors/redact.js";
import {
  INTERNAL_MESSAGE,
  RestCodes,
  RpcRestError,
  restErrorReply,
  rpcErrorReply,
  rpcSuccess,
  toRpcRequest,
  type JsonReply,
  type TextReply,
} from "./json-rpc.js";
import { METHODS, type MethodContext } from "../methods/index.js";
import { errorData } from "./error-data.js";

/**
 * Envelope checks (docs/protocol.md#envelope, #errors), dispatch, and the one place method failures become wire
 * errors. Internal causes are logged — never sent.
 */
export async function dispatchRpc(value: unknown, ctx: MethodContext, hungUp?: AbortSignal): Promise<JsonReply | TextReply> {
  const req = toRpcRequest(value);
  if ("problem" in req) {
    return { status: 422, text: `Failed to deserialize the JSON body into the target type: ${req.problem}` };
  }
  if (req.jsonrpc !== "2.0") return rpcErrorReply(req, 400, -32600, "Invalid or missing jsonrpc version field");
  const handler = METHODS.get(req.method);
  if (!handler) return rpcErrorReply(req, 404, -32601, `Method not found: ${req.method}`);
  try {
    return rpcSuccess(req, await handler(req.params, ctx, hungUp));
  } catch (err) {
    return failureReply(req.method, err, ctx);
  }
}

/** Maps a handler failure to its REST error object, logging the real cause. */
export function failureReply(method: string, err: unknown, ctx: MethodContext): JsonReply {
  if (err instanceof RpcRestError) {
    ctx.log(`${method} failed (${err.status}): ${redactSecrets(causeChain(err))}`);
    return restErrorReply(err.status, err.wireMessage, err.restCode, err.status >= 500 ? redactData(errorData(err)) : undefined);
  }
  ctx.log(`${method} failed (500, unexpected): ${redactSecrets(causeChain(err))}`);
  return restErrorReply(500, INTERNAL_MESSAGE, RestCodes.INTERNAL, { kind: "internal" });
}

function redactData(data: ReturnType<typeof errorData>): ReturnType<typeof errorData> {
  return {
    kind: data.kind,
    ...(data.cause !== undefined ? { cause: redactSecrets(data.cause) } : {}),
    ...(data.hint !== undefined ? { hint: redactSecrets(data.hint) } : {}),
  };
}

/** One log line: the message plus every cause not already quoted in it. */
function causeChain(err: unknown): string {
  let line = "";
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text = current instanceof Error ? current.message : String(current);
    if (!line.includes(text)) line = line ? `${line} <- ${text}` : text;
    current = current instanceof Error ? current.cause : undefined;
  }
  return line.replace(/\s*\n\s*/g, " ");
}
