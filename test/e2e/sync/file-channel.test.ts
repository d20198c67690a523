import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SandboxBackend } from "../../../src/backend/backend.js";
import { HttpFileChannel, type FileChannel } from "../../../src/backend/file-channel.js";
import { RpcBackend } from "../../../src/backend/rpc-backend.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { mintApiKey } from "../../../src/server/auth/keygen.js";
import { startDevServer } from "../../../src/server/index.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { caught } from "../../helpers/caught.js";
import { TEST_SECRET } from "../../helpers/server-harness.js";
import { startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// The dev server's sync file channel (docs/protocol.md#dev-sync-channel) through the real server and
// bubblewrap: advertised, used by sync, verified like the command route, refused when it should be.

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;

let fx: SyncFixture;
beforeAll(async () => {
  fx = await startSyncFixture();
});
afterAll(async () => {
  await fx?.close();
});

/** Forwards everything; records command bodies; lets a test replace or wrap the file channel. */
function instrumented(
  inner: RpcBackend,
  channel?: (real: FileChannel) => FileChannel,
): { backend: SandboxBackend; bodies: number[]; channelCalls: string[] } {
  const bodies: number[] = [];
  const channelCalls: string[] = [];
  const backend: SandboxBackend = {
    capabilities: inner.capabilities,
    start: (...a) => inner.start(...a),
    stop: (...a) => inner.stop(...a),
    runCode: (...a) => inner.runCode(...a),
    metrics: (...a) => inner.metrics(...a),
    runCommand(name, command, args, timeout, options) {
      bodies.push(Buffer.byteLength(JSON.stringify({ command, args })));
      return inner.runCommand(name, command, args, timeout, options);
    },
    async fileChannel(options) {
      const real = await inner.fileChannel(options);
      if (!real) return undefined;
      const used = channel ? channel(real) : real;
      return {
        maxBytes: used.maxBytes,
        put: (s, p, d, o) => {
          channelCalls.push(`PUT ${p} ${d.length}`);
          return used.put(s, p, d, o);
        },
        get: (s, p, l, o) => {
          channelCalls.push(`GET ${p} ${l}`);
          return used.get(s, p, l, o);
        },
      };
    },
  };
  return { backend, bodies, channelCalls };
}

it("the dev server advertises the channel; a server without the method means none", async () => {
  const channel = await fx.backend.fileChannel();
  expect(channel?.maxBytes).toBeGreaterThanOrEqual(1024 * MiB);
  // A legacy server answers "method not found" to msbv.sync_channel: no channel, no error.
  const legacy = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32601, message: "Method not found: msbv.sync_channel" }, id: null }));
    });
  });
  const url = await listen(legacy);
  try {
    expect(await new RpcBackend({ url }).fileChannel()).toBeUndefined();
  } finally {
    legacy.close();
  }
});

it("a 64 MiB file and 300 small files go in and back through the channel, not through command.run", async () => {
  const host = await fx.hostDir("fast");
  const big = randomBytes(64 * MiB); // incompressible: the raw path, not gzip
  await writeFile(join(host, "big.bin"), big);
  for (let i = 0; i < 300; i++) await writeFile(join(host, `s${i}.txt`), `small ${i}\n`);
  await fx.start("fast");
  const seen = instrumented(fx.backend);

  const session = await syncIn(seen.backend, "fast", [{ host, guest: "/home/fast" }]);
  expect(session.inReport).toMatchObject({ filesTransferred: 301 });
  expect(seen.channelCalls.some((c) => c.startsWith("PUT ") && Number(c.split(" ")[2]) > 64 * MiB)).toBe(true);
  // The bulk bytes did not travel as base64 in JSON: every command body stayed small.
  expect(Math.max(...seen.bodies)).toBeLessThan(64 * 1024);
  expect(await fx.sh("fast", "sha256sum < /home/fast/big.bin; cat /home/fast/s299.txt")).toBe(`${sha(big)}  -\nsmall 299`);

  await fx.sh("fast", "head -c 67108864 /dev/urandom > /home/fast/back.bin; for i in $(seq 0 199); do echo new $i > /home/fast/n$i.txt; done");
  const guestSha = (await fx.sh("fast", "sha256sum < /home/fast/back.bin")).slice(0, 64);
  seen.channelCalls.length = 0;
  seen.bodies.length = 0;
  const report = await syncBack(seen.backend, session);
  expect(report).toMatchObject({ filesTransferred: 201, conflicts: [] });
  expect(seen.channelCalls.some((c) => c.startsWith("GET ") && Number(c.split(" ")[2]) > 64 * MiB)).toBe(true);
  expect(Math.max(...seen.bodies)).toBeLessThan(64 * 1024);
  expect(sha(await readFile(join(host, "back.bin")))).toBe(guestSha);
  expect(await readFile(join(host, "n199.txt"), "utf8")).toBe("new 199\n");
});

it("bytes altered on the way are refused both ways: the sandbox's check and the host's check", async () => {
  const host = await fx.hostDir("tamper");
  await writeFile(join(host, "a.txt"), "original\n");
  await fx.start("tamper");
  const flip = (b: Uint8Array) => {
    const copy = Buffer.from(b);
    copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 1;
    return copy;
  };
  const evilIn = instrumented(fx.backend, (real) => ({
    maxBytes: real.maxBytes,
    put: (s, p, d, o) => real.put(s, p, flip(d), o),
    get: (...a) => real.get(...a),
  }));
  const inErr = await caught(syncIn(evilIn.backend, "tamper", [{ host, guest: "/home/tamper" }]));
  expect(inErr).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(String(inErr)).toContain("checksum mismatch");
  // Nothing was unpacked.
  expect(await fx.sh("tamper", "ls -A /home/tamper 2>/dev/null || true")).toBe("");

  const session = await syncIn(fx.backend, "tamper", [{ host, guest: "/home/tamper" }]);
  await fx.sh("tamper", "echo sandbox > /home/tamper/a.txt");
  const evilOut = instrumented(fx.backend, (real) => ({
    maxBytes: real.maxBytes,
    put: (...a) => real.put(...a),
    get: async (...a) => flip(await real.get(...a)),
  }));
  const backErr = await caught(syncBack(evilOut.backend, session));
  expect(backErr).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(String((backErr as Error).message)).toMatch(/do not match the sandbox's SHA-256/);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("original\n");
});

it("a hostile channel that streams more than the file's size is cut off with MSBV_SYNC_TOO_LARGE", async () => {
  const host = await fx.hostDir("flood");
  await fx.start("flood");
  const session = await syncIn(fx.backend, "flood", [{ host, guest: "/home/flood" }]);
  await fx.sh("flood", "echo hi > /home/flood/x.txt");
  // Answers every GET with an endless stream.
  let sent = 0;
  const flood = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = () => {
      while (sent < 512 * MiB && res.write(chunk)) sent += chunk.length;
      if (sent < 512 * MiB) res.once("drain", pump);
      else res.end();
    };
    res.on("close", () => res.removeAllListeners("drain"));
    pump();
  });
  const url = await listen(flood);
  try {
    const hostile = new HttpFileChannel({ url, route: "/x", maxBytes: 1024 * MiB, headers: {}, fetch: globalThis.fetch });
    const evil = instrumented(fx.backend, () => hostile);
    const err = await caught(syncBack(evil.backend, session));
    expect(err).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
    expect(err.cause).toMatchObject({ code: ErrorCodes.SYNC_TOO_LARGE });
    expect(err.message).toContain("sent more than the");
    // The client stopped reading long before the flood ended.
    expect(sent).toBeLessThan(512 * MiB);
    expect(await readFile(join(host, "x.txt"), "utf8").catch(() => "absent")).toBe("absent");
  } finally {
    flood.closeAllConnections();
    flood.close();
  }
});

it("the server refuses oversized, unsized and malformed uploads before writing anything", async () => {
  await fx.start("limits");
  const route = `${fx.url}/_dev/sync/file?sandbox=limits&path=/tmp/target`;
  const put = (headers: Record<string, string>, body?: string) => rawRequest(route, "PUT", headers, body);
  expect((await put({ "content-type": "application/octet-stream", "content-length": String(3 * 1024 * 1024 * 1024) })).status).toBe(413);
  expect((await put({ "content-type": "application/octet-stream", "transfer-encoding": "chunked" }, "5\r\nhello\r\n0\r\n\r\n")).status).toBe(411);
  expect((await put({ "content-type": "text/plain", "content-length": "5" }, "hello")).status).toBe(415);
  expect(
    (
      await rawRequest(
        `${fx.url}/_dev/sync/file?sandbox=limits&path=relative`,
        "PUT",
        { "content-type": "application/octet-stream", "content-length": "5" },
        "hello",
      )
    ).status,
  ).toBe(400);
  expect((await rawRequest(`${fx.url}/_dev/sync/file?sandbox=..%2Fx&path=/tmp/a`, "GET", {})).status).toBe(400);
  expect((await rawRequest(`${fx.url}/_dev/sync/file?sandbox=limits&path=/tmp/a`, "GET", {})).status).toBe(400); // no length
  expect((await rawRequest(`${fx.url}/_dev/sync/file?sandbox=nosuch&path=/tmp/a&length=1`, "GET", {})).status).toBe(404);
  expect(await fx.sh("limits", "ls -A /tmp")).not.toContain("target");
  // Control: a well-formed upload does land.
  expect((await put({ "content-type": "application/octet-stream", "content-length": "5" }, "hello")).status).toBe(204);
  expect(await fx.sh("limits", "cat /tmp/target")).toBe("hello");
});

it("a symlink planted in the sandbox cannot make the channel read or write a host file", async () => {
  const secretDir = await fx.hostDir("secret");
  const secret = join(secretDir, "secret.txt");
  await writeFile(secret, "host secret\n");
  await fx.start("links");
  await fx.sh("links", `ln -s ${secret} /home/link-file && ln -s ${secretDir} /home/link-dir`);
  const channel = (await fx.backend.fileChannel()) as FileChannel;
  // Control: a host-side implementation that opened the sandbox's files by their host path would follow
  // the link to the secret (the sandbox's /home is <projectDir>/.menv/<name>/rw/home on the host).
  const hostSide = join(fx.dir, "server", ".menv", "links", "rw", "home", "link-file");
  expect(await readFile(hostSide, "utf8")).toBe("host secret\n");

  // Through the channel the link resolves inside the sandbox, where that host path does not exist.
  const read = await caught(channel.get("links", "/home/link-file", 100));
  expect(read).toMatchObject({ code: ErrorCodes.SERVER_ERROR, status: 422 });
  const write = await caught(channel.put("links", "/home/link-file", Buffer.from("overwritten\n")));
  const writeInto = await caught(channel.put("links", "/home/link-dir/new.txt", Buffer.from("planted\n")));
  expect(write).toMatchObject({ status: 422 });
  expect(writeInto).toMatchObject({ status: 422 });
  expect(await readFile(secret, "utf8")).toBe("host secret\n");
  expect(await readFile(join(secretDir, "new.txt"), "utf8").catch(() => "absent")).toBe("absent");
});

it("the route keeps the server's auth, Host and Origin rules", async () => {
  const server = await startDevServer({
    port: 0,
    key: TEST_SECRET,
    projectDir: join(fx.dir, "keyed"),
    home: join(fx.dir, "keyed-home"),
    logger: () => {},
  });
  const token = await mintApiKey(TEST_SECRET);
  const backend = new RpcBackend({ url: server.url, apiKey: token });
  try {
    await backend.start({ name: "keyed", image: "microsandbox/python", memory: 256, cpus: 1, volumes: [], ports: [], envs: [], dependsOn: [] });
    const route = `${server.url}/_dev/sync/file?sandbox=keyed&path=/tmp/f`;
    const body = { "content-type": "application/octet-stream", "content-length": "2" };
    expect((await rawRequest(route, "PUT", body, "hi")).status).toBe(401);
    expect((await rawRequest(route, "PUT", { ...body, authorization: "Bearer not-a-token" }, "hi")).status).toBe(401);
    expect((await rawRequest(route, "PUT", { ...body, authorization: `Bearer ${token}`, origin: "http://evil.example" }, "hi")).status).toBe(403);
    expect((await rawRequest(route, "PUT", { ...body, authorization: `Bearer ${token}`, host: "evil.example" }, "hi")).status).toBe(421);
    expect((await rawRequest(`${route}&length=2`, "GET", {})).status).toBe(401);
    // Control: the same request with the key is served.
    expect((await rawRequest(route, "PUT", { ...body, authorization: `Bearer ${token}` }, "hi")).status).toBe(204);
    const channel = (await backend.fileChannel()) as FileChannel;
    expect((await channel.get("keyed", "/tmp/f", 10)).toString()).toBe("hi");
  } finally {
    await backend.stop("keyed").catch(() => undefined);
    await server.close();
  }
});

/** A request with exactly these headers (fetch would not let a test set Host or a lying Content-Length). */
async function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number }> {
  const { request } = await import("node:http");
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers: { host: u.host, ...headers }, setHost: false },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    // An oversized or unsized upload is refused before its body; do not wait to send one.
    req.end();
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}
