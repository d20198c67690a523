// Raw JSON-RPC, bypassing the client: what an attacker or a foreign SDK can send to the dev server.

export interface RawReply {
  status: number;
  /** Parsed JSON body (REST errors: `{ error, code }`; JSON-RPC: `{ jsonrpc, result | error, id }`). */
  body: { error?: unknown; code?: number; result?: unknown };
}

export async function rawRpc(url: string, method: string, params: Record<string, unknown>): Promise<RawReply> {
  const res = await fetch(`${url}/api/v1/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method, params: { namespace: "default", ...params }, id: "raw" }),
  });
  return { status: res.status, body: (await res.json()) as RawReply["body"] };
}

/** `sandbox.start` with a raw config (strings exactly as given; nothing checked client-side). */
export function rawStart(url: string, sandbox: string, config: Record<string, unknown>): Promise<RawReply> {
  return rawRpc(url, "sandbox.start", { sandbox, config: { image: "microsandbox/python", memory: 512, cpus: 1, ...config } });
}

/** The error text of a REST error reply (`{ error, code }`), or "" when the call succeeded. */
export function errorText(reply: RawReply): string {
  return typeof reply.body.error === "string" ? reply.body.error : "";
}
