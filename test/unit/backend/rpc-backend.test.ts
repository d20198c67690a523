import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RpcBackend } from "../../../src/backend/rpc-backend.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { ServerError } from "../../../src/errors/errors.js";
import { MsbvError } from "../../../src/errors/msbv-error.js";
import { fakeFetch, legacyResponder, rpcResult } from "../client/fake-fetch.js";

import type { SandboxSpec } from "../../../src/backend/sandbox-spec.js";

/** A resolved sandbox as the seam carries it. */
function spec(name: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { name, image: "microsandbox/python", memory: 512, cpus: 1, volumes: [], ports: [], envs: [], dependsOn: [], ...extra };
}

const KEY = "msb_eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl";

function backendWith(responder: Parameters<typeof fakeFetch>[0], apiKey?: string) {
  const fake = fakeFetch(responder);
  const backend = new RpcBackend({ url: "http://127.0.0.1:5555/", fetch: fake.fetch, ...(apiKey ? { apiKey } : {}) });
  return { backend, requests: fake.requests };
}

async function failure(p: Promise<unknown>): Promise<ServerError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  return err as ServerError;
}

describe("RpcBackend requests", () => {
  it("posts JSON-RPC 2.0 to /api/v1/rpc with namespace, a fresh id and the bearer key", async () => {
    const { backend, requests } = backendWith(legacyResponder(), KEY);
    await backend.start(spec("sb1"));
    await backend.runCode("sb1", "python", "print(1)", 5);
    await backend.runCommand("sb1", "ls", ["-la"], undefined);
    await backend.metrics("sb1");
    await backend.stop("sb1");

    expect(requests.map((r) => r.body.method)).toEqual([
      "sandbox.start",
      "sandbox.repl.run",
      "sandbox.command.run",
      "sandbox.metrics.get",
      "sandbox.stop",
    ]);
    for (const r of requests) {
      expect(r.url).toBe("http://127.0.0.1:5555/api/v1/rpc");
      expect(r.method).toBe("POST");
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.body.jsonrpc).toBe("2.0");
      expect(r.body.params.namespace).toBe("default");
      expect(r.body.params.sandbox).toBe("sb1");
      expect(typeof r.body.id).toBe("string");
    }
    expect(new Set(requests.map((r) => r.body.id)).size).toBe(requests.length);
    expect(requests[1]?.body.params).toMatchObject({ language: "python", code: "print(1)", timeout: 5 });
    expect(requests[2]?.body.params).toMatchObject({ command: "ls", args: ["-la"] });
    expect(requests[2]?.body.params).not.toHaveProperty("timeout");
  });

  it("sends no Authorization header without a key", async () => {
    const { backend, requests } = backendWith(legacyResponder());
    await backend.metrics(undefined);
    expect(requests[0]?.headers).not.toHaveProperty("authorization");
    expect(requests[0]?.body.params).toEqual({ namespace: "default" });
  });

  it("warns when the server could not verify the start", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const text = "Sandbox sb1 was started, but timed out waiting for it to be fully running. It may still be initializing.";
    const { backend } = backendWith(() => rpcResult(text));
    await expect(backend.start(spec("sb1", { image: "x", memory: 1 }))).resolves.toBe(text);
    expect(warn).toHaveBeenCalledWith(text, expect.objectContaining({ code: "MSBV_START_UNVERIFIED" }));
    warn.mockRestore();
  });
});

describe("RpcBackend error table", () => {
  const cases: [number, string][] = [
    [401, ErrorCodes.AUTH_FAILED],
    [403, ErrorCodes.AUTH_FAILED],
    [400, ErrorCodes.SERVER_ERROR],
    [404, ErrorCodes.SERVER_ERROR],
    [500, ErrorCodes.SERVER_ERROR],
    [502, ErrorCodes.SERVER_ERROR],
  ];
  for (const [status, code] of cases) {
    it(`HTTP ${status} → ${code}, with status, body text and never the key`, async () => {
      // A hostile/buggy server echoing the credentials back must not leak them into the message.
      const { backend } = backendWith((req) => new Response(`{"error":"boom ${req.headers.authorization}","code":5002}`, { status }), KEY);
      const err = await failure(backend.runCode("sb1", "python", "1", undefined));
      expect(err.code).toBe(code);
      expect(err.status).toBe(status);
      expect(err).toBeInstanceOf(MsbvError);
      expect(err.message).toContain("Failed to execute code");
      expect(err.message).toContain(`HTTP ${status}`);
      expect(err.message).toContain("boom");
      expect(err.message).not.toContain(KEY);
      expect(err.message).not.toContain(KEY.slice(4));
      expect(JSON.stringify(err.details)).not.toContain(KEY.slice(4));
      if (code === ErrorCodes.AUTH_FAILED) expect(err.hint).toMatch(/MSB_API_KEY.*msbv keygen/);
    });
  }

  it("redacts a key that does not look like msb_… too", async () => {
    const bare = "supersecretvalue123";
    const { backend } = backendWith(() => new Response(`you sent ${bare}`, { status: 500 }), bare);
    const err = await failure(backend.stop("sb1"));
    expect(err.message).not.toContain(bare);
  });

  it("200 with an error member → SERVER_ERROR", async () => {
    const { backend } = backendWith(() => Response.json({ jsonrpc: "2.0", error: { code: -32601, message: "Method not found: x" }, id: "1" }));
    const err = await failure(backend.stop("sb1"));
    expect(err.code).toBe(ErrorCodes.SERVER_ERROR);
    expect(err.message).toContain("Method not found: x");
  });

  it.each([
    ["not JSON", () => new Response("<html>hello</html>", { status: 200 })],
    ["an array", () => Response.json([1, 2])],
    ["no result", () => Response.json({ jsonrpc: "2.0", id: "1" })],
    ["wrong result shape", () => rpcResult({ language: "python", output: "text", status: "success" })],
  ])("malformed 200 body (%s) → PROTOCOL_ERROR", async (_label, respond) => {
    const { backend } = backendWith(respond);
    const err = await failure(backend.runCode("sb1", "python", "1", undefined));
    expect(err.code).toBe(ErrorCodes.PROTOCOL_ERROR);
  });

  it("connection refused → CONNECTION_FAILED naming the fix", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const backend = new RpcBackend({ url: `http://127.0.0.1:${port}` });
    const err = await failure(backend.metrics("x"));
    expect(err.code).toBe(ErrorCodes.CONNECTION_FAILED);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.hint).toMatch(/msbv dev-server.*MSB_SERVER_URL/);
  });

  describe("with a server that never answers", () => {
    let server: Server | undefined;
    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = undefined;
    });
    async function hangingUrl(): Promise<string> {
      server = createServer(() => {
        /* never responds */
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it("caller abort → ABORTED", async () => {
      const backend = new RpcBackend({ url: await hangingUrl() });
      const ctrl = new AbortController();
      const p = backend.runCommand("sb", "ls", [], undefined, { signal: ctrl.signal });
      setTimeout(() => ctrl.abort(), 50);
      const err = await failure(p);
      expect(err.code).toBe(ErrorCodes.ABORTED);
    });

    it("timeoutMs → TIMEOUT with a hint naming the option", async () => {
      const backend = new RpcBackend({ url: await hangingUrl() });
      const err = await failure(backend.runCode("sb", "python", "1", undefined, { timeoutMs: 50 }));
      expect(err.code).toBe(ErrorCodes.TIMEOUT);
      expect(err.hint).toContain("timeoutMs");
    });

    it("start timeout → TIMEOUT naming the start timeout", async () => {
      const backend = new RpcBackend({ url: await hangingUrl() });
      const err = await failure(backend.start(spec("sb", { image: "x", memory: 1 }), { timeoutMs: 50 }));
      expect(err.code).toBe(ErrorCodes.TIMEOUT);
      expect(err.message).toContain("Failed to start sandbox");
      expect(err.hint).toContain("timeout");
    });
  });
});

describe("RpcBackend capabilities", () => {
  const ro = { host: "/p/ro", guest: "/ro", readonly: true };

  it("a legacy server (method not found) has no read-only mounts; local only for this machine", async () => {
    const { backend, requests } = backendWith(legacyResponder());
    expect(await backend.capabilities()).toEqual({ readonlyVolumes: false, localHostPaths: true });
    expect(requests.map((r) => r.body.method)).toEqual(["msbv.capabilities"]);
    const local = async (url: string) => (await new RpcBackend({ url, fetch: fakeFetch(legacyResponder()).fetch }).capabilities()).localHostPaths;
    expect(await local("http://localhost:1")).toBe(true);
    expect(await local("http://[::1]:1")).toBe(true);
    expect(await local("https://sandbox.example.com")).toBe(false);
    expect(await local("http://10.255.255.1:5555")).toBe(false);
  });

  it("asks once and caches the answer; a server that advertises read-only gets readonly_volumes, never ':ro'", async () => {
    const { backend, requests } = backendWith(legacyResponder({ "msbv.capabilities": () => rpcResult({ readonlyVolumes: true }) }));
    await backend.start(spec("sb", { volumes: [{ host: "/p/ws", guest: "/w", readonly: false }, ro] }));
    await backend.start(spec("sb", { volumes: [ro] }));
    expect(requests.map((r) => r.body.method)).toEqual(["msbv.capabilities", "sandbox.start", "sandbox.start"]);
    expect(requests[1]?.body.params.config).toMatchObject({ volumes: ["/p/ws:/w", "/p/ro:/ro"], readonly_volumes: ["/ro"] });
  });

  it("refuses readonly against a legacy server before sandbox.start is sent", async () => {
    const { backend, requests } = backendWith(legacyResponder());
    const err = await backend.start(spec("sb", { volumes: [ro] })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.READONLY_UNSUPPORTED });
    expect((err as MsbvError).hint).toContain("msbv dev-server");
    expect(requests.map((r) => r.body.method)).toEqual(["msbv.capabilities"]);
  });

  it("a plain start (no readonly volume) sends exactly one request, as upstream", async () => {
    const { backend, requests } = backendWith(legacyResponder());
    await backend.start(spec("sb", { volumes: [{ host: "/p/ws", guest: "/w", readonly: false }] }));
    expect(requests.map((r) => r.body.method)).toEqual(["sandbox.start"]);
  });

  it("transport failures are thrown, not read as 'legacy'", async () => {
    const backend = new RpcBackend({ url: "http://127.0.0.1:1" });
    const err = await backend.capabilities().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CONNECTION_FAILED });
  });
});
