// Finding 10 of issue 11: a hostile server makes the client hold unbounded memory: a 1.2 GB answer to
// any call was buffered whole, and in sync mode a sandbox that claims a 1 TB file was fetched part after
// part. The real RpcBackend and the real sync code talk to a fake server over real HTTP; each attack must
// fail with its typed error while the client's RSS grows by far less than the attack (a memory bound, not
// a timing assertion).
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RpcBackend } from "../../../src/backend/rpc-backend.js";
import { ErrorCodes } from "../../../src/errors/index.js";
import { syncIn } from "../../../src/sync/index.js";

const MiB = 1024 * 1024;
const RSS_BOUND = 200 * MiB;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((ok) => server!.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Writes `total` bytes in 1 MiB chunks, honouring back-pressure; stops when the client goes away. Returns bytes sent. */
function stream(res: ServerResponse, total: number, sent: { bytes: number }): void {
  const chunk = Buffer.alloc(MiB, 0x41);
  const pump = () => {
    while (sent.bytes < total && !res.destroyed) {
      sent.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

describe("a 1.2 GB answer to an RPC call", () => {
  it.each([
    ["streamed without a length (chunked)", false],
    ["with a Content-Length that says so", true],
  ])("%s: MSBV_RESPONSE_TOO_LARGE, and the client held at most about the limit", async (_label, declare) => {
    const total = 1200 * MiB;
    const sent = { bytes: 0 };
    const url = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", ...(declare ? { "content-length": String(total) } : {}) });
      stream(res, total, sent);
    });
    const before = process.memoryUsage().rss;
    const err = await new RpcBackend({ url }).metrics(undefined).catch((e: unknown) => e);
    const grown = process.memoryUsage().rss - before;
    expect(err).toMatchObject({ code: ErrorCodes.RESPONSE_TOO_LARGE });
    expect(String((err as Error).message)).toContain("67108864 bytes");
    expect(grown).toBeLessThan(RSS_BOUND);
    expect(sent.bytes).toBeLessThan(total); // the client hung up; it did not drain the whole answer
  });

  it("the limit is an option: a 2 MiB answer fails at maxResponseBytes 1 MiB, and a valid small answer still works", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: "1", result: { sandboxes: [], pad: "x".repeat(2 * MiB) } });
    const url = await listen((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(big));
    await expect(new RpcBackend({ url, maxResponseBytes: MiB }).metrics(undefined)).rejects.toMatchObject({ code: ErrorCodes.RESPONSE_TOO_LARGE });
    expect(await new RpcBackend({ url, maxResponseBytes: 4 * MiB }).metrics(undefined)).toEqual([]);
  });
});

/**
 * A legacy-API server whose "sandbox" answers every sync step, and claims `claimed` bytes for the file it
 * is asked to send; each part request is answered with valid base64 of the asked length.
 */
async function lyingSyncServer(claimed: number, onPart: () => void): Promise<string> {
  return listen((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const call = JSON.parse(body) as { id: string; method: string; params: { args: string[] } };
      // A legacy server knows no dev-server extras (the sync channel probe): method not found.
      if (call.method !== "sandbox.command.run") {
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: -32601, message: "Method not found" } }));
        return;
      }
      const [, script = "", , ...args] = call.params.args;
      let lines: string[] = [];
      if (script.includes("wc -c")) lines = [String(claimed), `${"a".repeat(64)}  -`];
      else if (script.includes("tail -c")) {
        onPart();
        const b64 = randomBytes(Number(args[2])).toString("base64");
        for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
        lines.push("MSBV-END");
      }
      const result = {
        command: "sh",
        args: call.params.args,
        exit_code: 0,
        success: true,
        output: lines.map((text) => ({ stream: "stdout", text })),
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: call.id, result }));
    });
  });
}

describe("sync mode against a sandbox that claims a 1 TB file", () => {
  it("fails with MSBV_SYNC_TOO_LARGE before fetching anything; RSS stays small", async () => {
    const host = await mkdtemp(path.join(tmpdir(), "msbv-lying-sync-"));
    try {
      let parts = 0;
      const url = await lyingSyncServer(1024 ** 4, () => parts++);
      const before = process.memoryUsage().rss;
      const err = await syncIn(new RpcBackend({ url }), "liar", [{ host, guest: "/home/ws" }]).catch((e: unknown) => e);
      expect(process.memoryUsage().rss - before).toBeLessThan(RSS_BOUND);
      expect(err).toMatchObject({ code: ErrorCodes.SYNC_TOO_LARGE });
      expect(String((err as Error).message)).toContain("1099511627776 bytes");
      expect(parts).toBe(0);
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });

  it("control: with the limit raised above the claim, the client really starts fetching the 1 TB (aborted after 3 parts)", async () => {
    const host = await mkdtemp(path.join(tmpdir(), "msbv-lying-sync-"));
    try {
      const abort = new AbortController();
      let parts = 0;
      const url = await lyingSyncServer(1024 ** 4, () => {
        if (++parts === 3) abort.abort();
      });
      const err = await syncIn(new RpcBackend({ url }), "liar", [{ host, guest: "/home/ws" }], {
        maxTransferBytes: 2 * 1024 ** 4,
        signal: abort.signal,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.SYNC_FAILED });
      expect(parts).toBe(3);
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });
});
