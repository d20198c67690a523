import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DevServerError } from "../../../src/errors/index.js";
import { mintApiKey, startDevServer } from "../../../src/server/index.js";
import { FakeRuntime } from "../../helpers/fake-runtime.js";
import { call, send } from "../../helpers/server-harness.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

let root: string;
let rootDir: TempDir;
beforeEach(async () => {
  rootDir = await tempDir("msbv-life-");
  root = rootDir.path;
});
afterEach(async () => rootDir.remove());

const base = () => ({ port: 0, home: join(root, "home"), runtime: new FakeRuntime(), logger: () => {} });

describe("startDevServer lifecycle", () => {
  it("refuses a non-loopback host in dev mode, with a hint", async () => {
    const err = await startDevServer({ ...base(), host: "0.0.0.0", dev: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevServerError);
    expect((err as DevServerError).hint).toMatch(/127\.0\.0\.1|dev mode off/);
  });

  it("allows a non-loopback host when auth is on", async () => {
    const server = await startDevServer({ ...base(), host: "0.0.0.0", key: "k".repeat(32) });
    expect(server.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    await server.close();
  });

  it("creates <home>/server.key when neither dev nor key is given, and keys minted from it work", async () => {
    await using server = await startDevServer(base());
    const secret = await readFile(join(root, "home", "server.key"), "utf8");
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
    const reply = await send(`${server.url}/api/v1/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await mintApiKey(secret)}` },
      body: JSON.stringify(call("sandbox.nope")),
    });
    expect(reply.status).toBe(404);
    expect(server.projectDir).toBe(join(root, "home", "projects"));
  });

  it("close() stops every sandbox once, is idempotent, and stops listening", async () => {
    const runtime = new FakeRuntime();
    const server = await startDevServer({ ...base(), runtime, dev: true });
    await send(`${server.url}/api/v1/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call("sandbox.start", { sandbox: "a", config: { image: "microsandbox/python" } })),
    });
    expect(runtime.isRunning("a")).toBe(true);
    await Promise.all([server.close(), server.close()]);
    await server[Symbol.asyncDispose]();
    expect(runtime.shutdownCalls).toBe(1);
    expect(runtime.isRunning("a")).toBe(false);
    await expect(fetch(`${server.url}/api/v1/health`)).rejects.toThrow();
  });

  it("reports a busy port as DevServerError", async () => {
    await using first = await startDevServer({ ...base(), dev: true });
    const port = Number(new URL(first.url).port);
    const err = await startDevServer({ ...base(), dev: true, port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevServerError);
    expect(String((err as Error).message)).toContain(`${port}`);
  });

  it("serves the received log over HTTP in dev mode", async () => {
    await using server = await startDevServer({ ...base(), dev: true, projectDir: join(root, "p") });
    const config = { image: "microsandbox/python", volumes: ["/nowhere:/data"], memory: 512, cpus: 1 };
    await send(`${server.url}/api/v1/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call("sandbox.start", { sandbox: "r", config })),
    });
    const reply = await send(`${server.url}/_dev/received`);
    expect(reply.status).toBe(200);
    const received = (reply.json as { received: { sandbox: string; config: unknown }[] }).received;
    expect(received.map(({ sandbox, config: c }) => ({ sandbox, config: c }))).toStrictEqual([{ sandbox: "r", config }]);
    expect(server.received).toHaveLength(1);
  });

  it("answers stop with 'Project directory does not exist' and metrics with a generic 500 when the project dir vanished", async () => {
    await using server = await startDevServer({ ...base(), dev: true, projectDir: join(root, "p") });
    await rm(join(root, "p"), { recursive: true });
    const post = (method: string, params: unknown) =>
      send(`${server.url}/api/v1/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(call(method, params)),
      });
    expect((await post("sandbox.stop", { sandbox: "a" })).json).toStrictEqual({ error: "Project directory does not exist", code: 2001 });
    const metrics = await post("sandbox.metrics.get", {});
    expect({ status: metrics.status, body: metrics.json }).toStrictEqual({
      status: 500,
      body: { error: "Internal server error", code: 5002, data: { kind: "internal" } },
    });
    const start = await post("sandbox.start", { sandbox: "a", config: { image: "microsandbox/python" } });
    expect(start.json).toMatchObject({ result: "Sandbox a started successfully" });
  });
});
