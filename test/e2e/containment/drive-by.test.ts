// Finding 6 of issue 11: a web page (simple cross-origin POST) or a DNS-rebinding name
// (Host: evil.example:PORT) drives a `--dev` server to start a sandbox with a host folder.
// Real dev server, real bubblewrap; each attack must be refused and start nothing, and a control
// request from a local tool (loopback Host, no Origin) shows the same body would have started one.
import { request } from "node:http";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

let s: SafetyServer;
beforeAll(async () => {
  s = await startSafetyServer();
});
afterAll(async () => {
  await s?.close();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, because fetch() forbids setting Host (which is exactly what a rebinding page gets). */
function raw(method: string, headers: Record<string, string>, body?: string, route = "/api/v1/rpc"): Promise<Raw> {
  const url = new URL(`${s.url}${route}`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: { ...headers, ...(body ? { "content-length": Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function startBody(name: string): Promise<string> {
  const folder = path.join(s.project, "ws", name);
  await mkdir(folder, { recursive: true });
  return JSON.stringify({
    jsonrpc: "2.0",
    id: "1",
    method: "sandbox.start",
    params: { sandbox: name, namespace: "default", config: { image: "microsandbox/python", volumes: [`${folder}:/data`] } },
  });
}

const loopbackHost = () => new URL(s.url).host;

describe("--dev refuses requests from web pages and rebinding names", () => {
  it("DNS rebinding: Host evil.example:PORT is refused (421) and no sandbox starts", async () => {
    const port = new URL(s.url).port;
    // After rebinding, the page is same-origin with evil.example: it can send any body and read the answer.
    const reply = await raw("POST", { host: `evil.example:${port}`, "content-type": "application/json" }, await startBody("rebind"));
    expect(reply.status).toBe(421);
    expect(reply.body).toContain("not a loopback name");
    expect(s.server.received).toEqual([]);
    expect(await s.runningSandboxes()).toEqual([]);
  });

  it("cross-origin POST (Origin: http://evil.example) is refused (403) and no sandbox starts", async () => {
    const reply = await raw(
      "POST",
      { host: loopbackHost(), origin: "http://evil.example", "content-type": "application/json" },
      await startBody("crossorigin"),
    );
    expect(reply.status).toBe(403);
    expect(reply.headers["access-control-allow-origin"]).toBeUndefined();
    expect(s.server.received).toEqual([]);
    expect(await s.runningSandboxes()).toEqual([]);
  });

  it("a preflight from a foreign origin gets no Access-Control-Allow-Origin (no wildcard)", async () => {
    const reply = await raw("OPTIONS", {
      host: loopbackHost(),
      origin: "http://evil.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    });
    expect(reply.status).toBe(403);
    expect(reply.headers["access-control-allow-origin"]).toBeUndefined();
    expect(reply.headers["access-control-allow-headers"]).toBeUndefined();
  });

  it("the MCP route is gated the same way: a rebinding Host and an opaque `Origin: null` (sandboxed iframe, file://) are refused", async () => {
    const port = new URL(s.url).port;
    const mcpStart = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "sandbox_start", arguments: { sandbox: "mcp", config: { image: "microsandbox/python" } } },
    });
    const rebound = await raw("POST", { host: `evil.example:${port}`, "content-type": "application/json" }, mcpStart, "/mcp");
    expect(rebound.status).toBe(421);
    const opaque = await raw("POST", { host: loopbackHost(), origin: "null", "content-type": "application/json" }, await startBody("opaque"));
    expect(opaque.status).toBe(403);
    expect(s.server.received).toEqual([]);
    expect(await s.runningSandboxes()).toEqual([]);
  });

  it("control: the same start from a local tool (loopback Host, no Origin) does start the sandbox", async () => {
    const reply = await raw("POST", { host: loopbackHost(), "content-type": "application/json" }, await startBody("local"));
    expect(reply.status, reply.body).toBe(200);
    expect(s.server.received.map((r) => r.sandbox)).toEqual(["local"]);
    expect(await s.runningSandboxes()).toEqual(["local"]);
  });
});
