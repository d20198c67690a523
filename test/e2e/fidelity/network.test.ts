import { createServer, type Server } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServerError, PythonSandbox } from "../../../src/index.js";
import { mintApiKey, startDevServer } from "../../../src/server/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 13: no network is the default; `--allow-network` (startDevServer `allowNetwork`)
// is an explicit opt-in per server that shares the host network, announced in the health body
// (doctor/status show it) and refused together with unauthenticated dev mode.

const SECRET = "network-test-secret-0123456789abcdef";
let dir: string;
let listener: Server;
let port: number;
let fx: DevServerFixture;

/** Connects from inside the sandbox to a TCP listener on the host's loopback. */
const PROBE = (p: number) =>
  `import socket\ntry:\n    socket.create_connection(('127.0.0.1', ${p}), timeout=3).close()\n    print('reached')\nexcept OSError as e:\n    print('no network', type(e).__name__)`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "msbv-network-"));
  await writeFile(path.join(dir, "microsandbox.toml"), "# network test\n");
  listener = createServer((s) => s.end());
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  port = (listener.address() as { port: number }).port;
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.close();
  await new Promise<void>((r) => listener.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

describe("network is opt-in", () => {
  it("default: the sandbox has no network (control for the opt-in below)", async () => {
    await using sb = await PythonSandbox.create({ name: "net-none", serverUrl: fx.url, configPath: fx.configPath });
    expect(await (await sb.run(PROBE(port))).output()).toMatch(/^no network/);
    const health = await (await fetch(`${fx.url}/api/v1/health`)).json();
    expect(health).toEqual({ message: "Service is healthy" });
  });

  it("--allow-network: the sandbox reaches the host network, and the health body says so", async () => {
    const server = await startDevServer({
      port: 0,
      key: SECRET,
      allowNetwork: true,
      projectDir: path.join(dir, "state"),
      home: path.join(dir, "home"),
      logger: () => {},
    });
    try {
      const apiKey = await mintApiKey(SECRET);
      const health = await (await fetch(`${server.url}/api/v1/health`)).json();
      expect(health).toEqual({ message: "Service is healthy", network: "host" });
      await using sb = await PythonSandbox.create({
        name: "net-host",
        serverUrl: server.url,
        apiKey,
        configPath: path.join(dir, "microsandbox.toml"),
      });
      expect(await (await sb.run(PROBE(port))).output()).toBe("reached");
      // Name lookups use the host's resolver settings.
      const hostResolv = await readFile("/etc/resolv.conf", "utf8").catch(() => undefined);
      const resolv = await sb.command.run("cat", ["/etc/resolv.conf"]);
      expect(resolv.exitCode === 0).toBe(hostResolv !== undefined);
      if (hostResolv !== undefined) expect(await resolv.output()).toBe(hostResolv.replace(/\n$/, ""));
    } finally {
      await server.close();
    }
  });

  it("is refused together with --dev (no auth)", async () => {
    await expect(
      startDevServer({ port: 0, dev: true, allowNetwork: true, projectDir: path.join(dir, "state2"), logger: () => {} }),
    ).rejects.toBeInstanceOf(DevServerError);
  });
});
