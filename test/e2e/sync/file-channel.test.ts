import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { chmod, readdir, readFile, truncate, utimes, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SandboxBackend } from "../../../src/backend/backend.js";
import { bodySize, HttpFileChannel, isStreamed, type FileChannel, type PutBody } from "../../../src/backend/file-channel.js";
import { RpcBackend } from "../../../src/backend/rpc-backend.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { mintApiKey } from "../../../src/server/auth/keygen.js";
import { startDevServer } from "../../../src/server/index.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { caught } from "../../helpers/caught.js";
import { TEST_SECRET } from "../../helpers/server-harness.js";
import { forwardingBackend, startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

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
  const backend = forwardingBackend(inner, {
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
        compress: used.compress,
        put: (s, p, d, c, o) => {
          channelCalls.push(`PUT ${p} ${bodySize(d)}`);
          return used.put(s, p, d, c, o);
        },
        get: (s, p, l, r, o) => {
          channelCalls.push(`GET ${p} ${l}`);
          return used.get(s, p, l, r, o);
        },
      };
    },
  });
  return { backend, bodies, channelCalls };
}

it("the dev server advertises the channel in its one capabilities answer; a legacy server gets the command route", async () => {
  const channel = await fx.backend.fileChannel();
  expect(channel?.maxBytes).toBeGreaterThanOrEqual(1024 * MiB);
  // Loopback: raw bytes cross faster than gzip -1 packs them.
  expect(channel?.compress).toBe(false);
  // A legacy server answers "method not found" to msbv.capabilities: no channel, no error, and sync
  // goes through sandbox.command.run (the only methods it ever sees are the legacy ones).
  const methods: string[] = [];
  const legacy = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const method = (JSON.parse(body) as { method: string }).method;
      methods.push(method);
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32601, message: `Method not found: ${method}` }, id: null }));
    });
  });
  const url = await listen(legacy);
  try {
    const backend = new RpcBackend({ url });
    expect(await backend.fileChannel()).toBeUndefined();
    expect(await backend.capabilities()).toMatchObject({ readonlyVolumes: false });
    // One probe serves both questions.
    expect(methods).toEqual(["msbv.capabilities"]);
  } finally {
    legacy.close();
  }
});

it("a channel of another version or on another origin is not used", async () => {
  const answers = [
    { readonlyVolumes: true, syncChannel: { version: 1, route: "/_dev/sync/file", maxBytes: 1024 } },
    // Version 2 ignores `mode`/`mtime`: a large file sent on its own would lose them.
    { readonlyVolumes: true, syncChannel: { version: 2, route: "/_dev/sync/file", maxBytes: 1024 } },
    { readonlyVolumes: true, syncChannel: { version: 3, route: "//evil.example/x", maxBytes: 1024 } },
    { readonlyVolumes: true, syncChannel: "yes" },
  ];
  for (const result of answers) {
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", result, id: null }));
      });
    });
    const url = await listen(server);
    try {
      const backend = new RpcBackend({ url });
      expect(await backend.fileChannel()).toBeUndefined();
      // The rest of the answer still counts.
      expect((await backend.capabilities()).readonlyVolumes).toBe(true);
    } finally {
      server.close();
    }
  }
});

it("a 64 MiB file and 300 small files go in and back through the channel, not through command.run", async () => {
  const host = await fx.hostDir("fast");
  const big = randomBytes(64 * MiB); // incompressible: the raw path, not gzip
  await writeFile(join(host, "big.bin"), big);
  await chmod(join(host, "big.bin"), 0o640);
  await utimes(join(host, "big.bin"), 1_700_000_000, 1_700_000_000);
  for (let i = 0; i < 300; i++) await writeFile(join(host, `s${i}.txt`), `small ${i}\n`);
  await fx.start("fast");
  const seen = instrumented(fx.backend);

  const session = await syncIn(seen.backend, "fast", [{ host, guest: "/home/fast" }]);
  expect(session.inReport).toMatchObject({ filesTransferred: 301 });
  // The large file crosses on its own (not inside the archive), at its exact size.
  expect(seen.channelCalls.some((c) => c.startsWith("PUT ") && Number(c.split(" ")[2]) === 64 * MiB)).toBe(true);
  // The bulk bytes did not travel as base64 in JSON: every command body stayed small.
  expect(Math.max(...seen.bodies)).toBeLessThan(64 * 1024);
  expect(await fx.sh("fast", "sha256sum < /home/fast/big.bin; cat /home/fast/s299.txt")).toBe(`${sha(big)}  -\nsmall 299`);
  // Sent on its own, it still gets the host file's mode and mtime (set before it appeared).
  expect(await fx.sh("fast", "stat -c '%a %Y' /home/fast/big.bin")).toBe("640 1700000000");

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
    compress: real.compress,
    put: (s, p, d, c, o) => real.put(s, p, flipLastByte(d), c, o),
    get: (...a) => real.get(...a),
  }));
  const inErr = await caught(syncIn(evilIn.backend, "tamper", [{ host, guest: "/home/tamper" }]));
  expect(inErr).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(String((inErr as Error).message)).toMatch(/SHA-256 mismatch after transfer/);
  // Nothing was unpacked.
  expect(await fx.sh("tamper", "ls -A /home/tamper 2>/dev/null || true")).toBe("");

  const session = await syncIn(fx.backend, "tamper", [{ host, guest: "/home/tamper" }]);
  await fx.sh("tamper", "echo sandbox > /home/tamper/a.txt");
  const evilOut = instrumented(fx.backend, (real) => ({
    maxBytes: real.maxBytes,
    compress: real.compress,
    put: (...a) => real.put(...a),
    // Every piece altered as it is handed over: what the client holds is what it must hash.
    get: (s, p, l, receive, o) => real.get(s, p, l, (piece) => receive(flip(piece)), o),
  }));
  const backErr = await caught(syncBack(evilOut.backend, session));
  expect(backErr).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(String((backErr as Error).message)).toMatch(/do not match the sandbox's SHA-256/);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("original\n");
  // The file fetched as itself was written into a temp file as it arrived: removed, nothing else left.
  expect(await readdir(host)).toEqual(["a.txt"]);
});

it("a single changed file fetched as itself is never accepted when it changed since the listing or became a link: the archive route takes over", async () => {
  const host = await fx.hostDir("single");
  await writeFile(join(host, "a.txt"), "original\n");
  await fx.start("single");
  const session = await syncIn(fx.backend, "single", [{ host, guest: "/home/single" }]);
  await fx.sh("single", "echo listed > /home/single/a.txt");
  // The sandbox rewrites the file after the listing hashed it, just before the bytes are read.
  const racing = instrumented(fx.backend, (real) => ({
    maxBytes: real.maxBytes,
    compress: real.compress,
    put: (...a) => real.put(...a),
    get: async (s, p, l, r, o) => {
      if (p === "/home/single/a.txt") await fx.sh("single", "printf 'swapped\\n' > /home/single/a.txt");
      return real.get(s, p, l, r, o);
    },
  }));
  // The direct bytes fail the listing's SHA-256; the archive route then brings the file as it is now,
  // checked against the pack step's own hash, as a sync-back always did.
  await syncBack(racing.backend, session);
  expect(racing.channelCalls).toContain("GET /home/single/a.txt 7");
  expect(racing.channelCalls.some((c) => c.includes("/out.tar "))).toBe(true);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("swapped\n");
  // The fallback made the scratch folder again after the single-file step removed it; nothing is left.
  expect(await fx.sh("single", "ls -A /tmp")).not.toMatch(/msbv-sync/);

  // Control: the same file, untouched, comes home as itself (one GET of exactly its size), in two
  // commands (the listing, then the file's mode and size, which also removes the scratch folder).
  await fx.sh("single", "echo listed > /home/single/a.txt");
  const plain = instrumented(fx.backend);
  await syncBack(plain.backend, session);
  expect(plain.channelCalls.filter((c) => !c.includes("/list "))).toEqual(["GET /home/single/a.txt 7"]);
  expect(plain.bodies).toHaveLength(2);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("listed\n");
  expect(await fx.sh("single", "ls -A /tmp")).not.toMatch(/msbv-sync/);

  // The file turns into a link to another sandbox file between the listing and the fetch.
  await fx.sh("single", "echo again > /home/single/a.txt; echo secret > /tmp/secret.txt");
  const base = instrumented(fx.backend).backend;
  const linking: SandboxBackend = {
    ...base,
    async runCommand(name, command, args, timeout, options) {
      if (args.some((a) => a.includes("is no longer a regular file"))) await fx.sh("single", "ln -sf /tmp/secret.txt /home/single/a.txt");
      return base.runCommand(name, command, args, timeout, options);
    },
  };
  // Refused twice: the direct fetch (no longer a regular file), then the archive route (a link is never accepted).
  const linked = await caught(syncBack(linking, session));
  expect(linked).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
  expect(String((linked as Error).message)).toMatch(/refused/);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("listed\n");
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
    const hostile = new HttpFileChannel({ url, route: "/x", maxBytes: 1024 * MiB, compress: false, headers: {} });
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

it("the server refuses oversized, unsized, unhashed and malformed uploads before writing anything", async () => {
  await fx.start("limits");
  const route = `${fx.url}/_dev/sync/file?sandbox=limits&path=/tmp/target&sha256=${sha(Buffer.from("hello"))}`;
  const put = (headers: Record<string, string>, body?: string) => rawRequest(route, "PUT", headers, body);
  expect((await put({ "content-type": "application/octet-stream", "content-length": String(3 * 1024 * 1024 * 1024) })).status).toBe(413);
  expect((await put({ "content-type": "application/octet-stream", "transfer-encoding": "chunked" }, "5\r\nhello\r\n0\r\n\r\n")).status).toBe(411);
  expect((await put({ "content-type": "text/plain", "content-length": "5" }, "hello")).status).toBe(415);
  // No SHA-256: nothing could be verified before the file appears, so nothing is written.
  expect(
    (
      await rawRequest(
        `${fx.url}/_dev/sync/file?sandbox=limits&path=/tmp/target`,
        "PUT",
        { "content-type": "application/octet-stream", "content-length": "5" },
        "hello",
      )
    ).status,
  ).toBe(400);
  expect(
    (
      await rawRequest(
        `${fx.url}/_dev/sync/file?sandbox=limits&path=relative&sha256=${sha(Buffer.from("hello"))}`,
        "PUT",
        { "content-type": "application/octet-stream", "content-length": "5" },
        "hello",
      )
    ).status,
  ).toBe(400);
  expect((await rawRequest(`${fx.url}/_dev/sync/file?sandbox=..%2Fx&path=/tmp/a`, "GET", {})).status).toBe(400);
  expect((await rawRequest(`${fx.url}/_dev/sync/file?sandbox=limits&path=/tmp/a`, "GET", {})).status).toBe(400); // no length
  expect((await rawRequest(`${fx.url}/_dev/sync/file?sandbox=nosuch&path=/tmp/a&length=1`, "GET", {})).status).toBe(404);
  // A body that does not hash to the declared SHA-256 is refused in the sandbox and leaves nothing behind.
  const wrong = `${fx.url}/_dev/sync/file?sandbox=limits&path=/tmp/target&sha256=${sha(Buffer.from("other"))}`;
  expect((await rawRequest(wrong, "PUT", { "content-type": "application/octet-stream", "content-length": "5" }, "hello")).status).toBe(422);
  expect(await fx.sh("limits", "ls -A /tmp")).not.toContain("target");
  // Control: a well-formed upload does land.
  expect((await put({ "content-type": "application/octet-stream", "content-length": "5" }, "hello")).status).toBe(204);
  expect(await fx.sh("limits", "cat /tmp/target")).toBe("hello");
  // Mode and mtime: set-id bits and malformed values are refused before anything is written; valid ones are
  // set before the file appears, on the plain writer and on the gzip one alike.
  const octet = { "content-type": "application/octet-stream", "content-length": "5" };
  for (const bad of ["mode=4755", "mode=1000", "mode=rwx", "mode=-1", "mtime=soon", "mtime=--5", "mtime=1e9"]) {
    expect((await rawRequest(`${route.replace("/tmp/target", "/tmp/stamped")}&${bad}`, "PUT", octet, "hello")).status, bad).toBe(400);
  }
  expect(await fx.sh("limits", "ls -A /tmp")).not.toContain("stamped");
  expect((await rawRequest(`${route.replace("/tmp/target", "/tmp/stamped")}&mode=604&mtime=1600000000.5`, "PUT", octet, "hello")).status).toBe(204);
  const gz = gzipSync(Buffer.from("hello"));
  const gzRoute = `${route.replace("/tmp/target", "/tmp/stamped-gz")}&encoding=gzip&size=5&mode=640&mtime=1500000000`;
  expect((await rawRequest(gzRoute, "PUT", { "content-type": "application/octet-stream", "content-length": String(gz.length) }, gz)).status).toBe(
    204,
  );
  // parents=1 makes missing folders first (both writers); without it a missing folder fails; any other value is refused.
  expect((await rawRequest(`${route.replace("/tmp/target", "/tmp/p1/p2/f")}&parents=2`, "PUT", octet, "hello")).status).toBe(400);
  expect((await rawRequest(route.replace("/tmp/target", "/tmp/p1/p2/f"), "PUT", octet, "hello")).status).toBe(422);
  expect((await rawRequest(`${route.replace("/tmp/target", "/tmp/p1/p2/f")}&parents=1`, "PUT", octet, "hello")).status).toBe(204);
  const gzParents = `${route.replace("/tmp/target", "/tmp/g1/g2/f")}&encoding=gzip&size=5&parents=1`;
  expect((await rawRequest(gzParents, "PUT", { "content-type": "application/octet-stream", "content-length": String(gz.length) }, gz)).status).toBe(
    204,
  );
  expect(await fx.sh("limits", "cat /tmp/p1/p2/f /tmp/g1/g2/f")).toBe("hellohello");
  expect(await fx.sh("limits", "stat -c '%a %Y %n' /tmp/stamped /tmp/stamped-gz; cat /tmp/stamped-gz")).toBe(
    "604 1600000000 /tmp/stamped\n640 1500000000 /tmp/stamped-gz\nhello",
  );
});

it("a large host file that changes between its hash and its upload is refused in the sandbox: nothing appears at its path", async () => {
  const host = await fx.hostDir("shifting");
  const big = randomBytes(9 * MiB); // over the size that goes on its own
  await writeFile(join(host, "big.bin"), big);
  await fx.start("shifting");
  for (const change of ["rewrite", "truncate"] as const) {
    const racing = instrumented(fx.backend, (real) => ({
      maxBytes: real.maxBytes,
      compress: real.compress,
      async put(s, p, d, c, o) {
        // Hashed already (the planned SHA-256 is in `c`); the host file changes before its bytes are read again.
        if (isStreamed(d)) {
          if (change === "rewrite") await writeFile(join(host, "big.bin"), randomBytes(9 * MiB));
          else await truncate(join(host, "big.bin"), 4 * MiB);
        }
        return real.put(s, p, d, c, o);
      },
      get: (...a) => real.get(...a),
    }));
    const err = await caught(syncIn(racing.backend, "shifting", [{ host, guest: "/home/shifting" }]));
    expect(err, change).toMatchObject({ code: ErrorCodes.SYNC_FAILED, hint: expect.stringMatching(/changed while it was being sent/) });
    expect(racing.channelCalls.filter((c) => c.startsWith("PUT /home/shifting/big.bin"))).toHaveLength(1);
    // Neither the new bytes nor a part file: the sandbox's check held them back (a truncated upload is
    // abandoned by the host, whose call fails before the sandbox side has removed its part file).
    expect(await fx.namesOncePartsGone("shifting", "/home/shifting")).toBe("");
    await writeFile(join(host, "big.bin"), big);
  }
  // Control: unchanged, the same file goes through, in one command (the listing): no apply step, the
  // missing guest folder is made by the upload itself.
  await fx.sh("shifting", "rmdir /home/shifting");
  const plain = instrumented(fx.backend);
  await syncIn(plain.backend, "shifting", [{ host, guest: "/home/shifting" }]);
  expect(plain.bodies).toHaveLength(1);
  expect(await fx.sh("shifting", "sha256sum < /home/shifting/big.bin; stat -c %a /home/shifting")).toBe(`${sha(big)}  -\n755`);
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
  const read = await caught(channel.get("links", "/home/link-file", 100, () => {}));
  expect(read).toMatchObject({ code: ErrorCodes.SERVER_ERROR, status: 422 });
  const put = (path: string, text: string) => channel.put("links", path, Buffer.from(text), { sha256: sha(Buffer.from(text)), size: text.length });
  // Writing where a link stands replaces the link inside the sandbox (rename), never the link's target.
  await put("/home/link-file", "overwritten\n");
  expect(await fx.sh("links", "test ! -L /home/link-file && cat /home/link-file")).toBe("overwritten");
  const writeInto = await caught(put("/home/link-dir/new.txt", "planted\n"));
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
    const route = `${server.url}/_dev/sync/file?sandbox=keyed&path=/tmp/f&sha256=${sha(Buffer.from("hi"))}`;
    const body = { "content-type": "application/octet-stream", "content-length": "2" };
    expect((await rawRequest(route, "PUT", body, "hi")).status).toBe(401);
    expect((await rawRequest(route, "PUT", { ...body, authorization: "Bearer not-a-token" }, "hi")).status).toBe(401);
    expect((await rawRequest(route, "PUT", { ...body, authorization: `Bearer ${token}`, origin: "http://evil.example" }, "hi")).status).toBe(403);
    expect((await rawRequest(route, "PUT", { ...body, authorization: `Bearer ${token}`, host: "evil.example" }, "hi")).status).toBe(421);
    expect((await rawRequest(`${route}&length=2`, "GET", {})).status).toBe(401);
    // Control: the same request with the key is served.
    expect((await rawRequest(route, "PUT", { ...body, authorization: `Bearer ${token}` }, "hi")).status).toBe(204);
    const channel = (await backend.fileChannel()) as FileChannel;
    const got: Buffer[] = [];
    await channel.get("keyed", "/tmp/f", 10, (piece) => void got.push(piece));
    expect(Buffer.concat(got).toString()).toBe("hi");
  } finally {
    await backend.stop("keyed").catch(() => undefined);
    await server.close();
  }
});

/** A request with exactly these headers (fetch would not let a test set Host or a lying Content-Length). */
async function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number }> {
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

/** The same body with its last byte changed (a streamed one: the last byte of each piece, as it goes). */
function flipLastByte(body: PutBody): PutBody {
  const flip = (b: Uint8Array) => {
    const copy = Buffer.from(b);
    copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 1;
    return copy;
  };
  if (isStreamed(body)) return { size: body.size, produce: (write) => body.produce((piece) => write(flip(piece))) };
  return flip(Buffer.concat(body instanceof Uint8Array ? [body] : body));
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}
