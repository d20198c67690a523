// A recording stand-in for fetch: tests see exactly what would go on the wire, and script the answers.

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: { jsonrpc: string; method: string; params: Record<string, unknown>; id: unknown };
}

export type Responder = (req: RecordedRequest) => Response | Promise<Response>;

export interface FakeFetch {
  fetch: typeof globalThis.fetch;
  requests: RecordedRequest[];
}

export function fakeFetch(responder: Responder): FakeFetch {
  const requests: RecordedRequest[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    init?.signal?.throwIfAborted();
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const req: RecordedRequest = {
      url: String(input),
      method: init?.method ?? "GET",
      headers,
      body: JSON.parse(String(init?.body)),
    };
    requests.push(req);
    return responder(req);
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

export function rpcResult(result: unknown, id: unknown = "1"): Response {
  return Response.json({ jsonrpc: "2.0", result, id });
}

/** Answers the five legacy methods with plausible results; remembers which names are running. */
export function legacyResponder(overrides: Partial<Record<string, Responder>> = {}): Responder {
  const running = new Set<unknown>();
  return (req) => {
    const o = overrides[req.body.method];
    if (o) return o(req);
    const p = req.body.params;
    switch (req.body.method) {
      case "sandbox.start":
        running.add(p.sandbox);
        return rpcResult(`Sandbox ${String(p.sandbox)} started successfully`);
      case "sandbox.stop":
        running.delete(p.sandbox);
        return rpcResult(`Sandbox ${String(p.sandbox)} stopped successfully`);
      case "sandbox.repl.run":
        return rpcResult({ language: p.language, output: [{ stream: "stdout", text: "ok" }], status: "success" });
      case "sandbox.command.run":
        return rpcResult({ command: p.command, args: p.args, exit_code: 0, output: [], success: true });
      case "sandbox.metrics.get":
        return rpcResult({
          sandboxes: [
            running.has(p.sandbox)
              ? { name: p.sandbox, running: true, cpu_usage: 1.5, memory_usage: 20, disk_usage: 4096 }
              : { name: p.sandbox ?? "some-sandbox", running: false, cpu_usage: null, memory_usage: null, disk_usage: null },
          ],
        });
      default:
        return Response.json({ jsonrpc: "2.0", error: { code: -32601, message: "Method not found" } }, { status: 404 });
    }
  };
}
