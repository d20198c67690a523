import { once } from "node:events";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readBoundedMessage, streamBoundedMessage } from "../../../src/backend/bounded-body.js";

// The one bounded read of a Node HTTP body (src/backend/bounded-body.ts), on real sockets: the dev
// server reads request bodies with it, the sync file channel its answers.

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A server whose requests go to `onRequest`; its port. */
async function listen(onRequest: (req: IncomingMessage) => void): Promise<number> {
  server = createServer((req, res) => {
    onRequest(req);
    req.once("end", () => res.end("ok"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

function post(port: number, pieces: Buffer[], headers: Record<string, string | number> = {}): void {
  const req = request({ port, host: "127.0.0.1", method: "POST", headers });
  req.on("error", () => undefined);
  req.on("response", (res) => res.resume());
  for (const piece of pieces) req.write(piece);
  req.end();
}

describe("readBoundedMessage", () => {
  it("gives the body as the chunks it came in, up to the limit exactly", async () => {
    let read: Promise<Buffer[] | undefined> | undefined;
    const port = await listen((req) => {
      read = readBoundedMessage(req, 3 * 65536, "pause");
    });
    post(port, [Buffer.alloc(65536, 1), Buffer.alloc(65536, 2), Buffer.alloc(65536, 3)]);
    await expect.poll(() => read !== undefined).toBe(true);
    const chunks = (await read) as Buffer[];
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat([Buffer.alloc(65536, 1), Buffer.alloc(65536, 2), Buffer.alloc(65536, 3)]));
  });

  it("stops at the first byte past the limit, whether or not a length was declared", async () => {
    const reads: Array<Promise<Buffer[] | undefined>> = [];
    const messages: IncomingMessage[] = [];
    const port = await listen((req) => {
      messages.push(req);
      reads.push(readBoundedMessage(req, 1000, messages.length === 1 ? "destroy" : "pause"));
    });
    // Chunked (no Content-Length): found while reading.
    post(port, [Buffer.alloc(600), Buffer.alloc(600)], { "transfer-encoding": "chunked" });
    await expect.poll(() => reads.length).toBe(1);
    expect(await reads[0]).toBeUndefined();
    expect(messages[0]?.destroyed).toBe(true);
    // Declared too large: refused before reading anything.
    post(port, [Buffer.alloc(1001)], { "content-length": 1001 });
    await expect.poll(() => reads.length).toBe(2);
    expect(await reads[1]).toBeUndefined();
    expect(messages[1]?.isPaused() || messages[1]?.readableFlowing !== true).toBe(true);
  });

  it("rejects a body cut off before its end instead of returning part of it", async () => {
    let read: Promise<Buffer[] | undefined> | undefined;
    const port = await listen((req) => {
      read = readBoundedMessage(req, 1 << 20, "pause");
    });
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${"a".repeat(40)}`);
    await expect.poll(() => read !== undefined).toBe(true);
    socket.destroy();
    // Node reports it as an "aborted" error, or the close comes first: either way, no short result.
    await expect(read).rejects.toThrow(/aborted|closed before the whole body/);
  });
});

describe("streamBoundedMessage", () => {
  it("hands each chunk over as it arrives, in order, and resolves true at the end", async () => {
    const got: Buffer[] = [];
    let read: Promise<boolean> | undefined;
    const port = await listen((req) => {
      read = streamBoundedMessage(req, 100_000, "destroy", (chunk) => void got.push(chunk));
    });
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    post(port, [body.subarray(0, 30_000), body.subarray(30_000)]);
    await expect.poll(() => read !== undefined).toBe(true);
    expect(await read).toBe(true);
    expect(Buffer.concat(got).equals(body)).toBe(true);
  });

  it("stops at the chunk that crosses the limit (chunked: found while reading), which is not handed over", async () => {
    const over: Buffer[] = [];
    let flood: Promise<boolean> | undefined;
    let message: IncomingMessage | undefined;
    const port = await listen((req) => {
      message = req;
      flood = streamBoundedMessage(req, 1000, "destroy", (chunk) => void over.push(chunk));
    });
    post(port, [Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(600, 3)], { "transfer-encoding": "chunked" });
    await expect.poll(() => flood !== undefined).toBe(true);
    expect(await flood).toBe(false);
    expect(over.reduce((n, c) => n + c.length, 0)).toBeLessThanOrEqual(1000);
    expect(message?.destroyed).toBe(true);
  });

  it("a receiver that throws ends the read with its error and the message is destroyed", async () => {
    let read: Promise<unknown> | undefined;
    let message: IncomingMessage | undefined;
    let calls = 0;
    const port = await listen((req) => {
      message = req;
      // Caught at once: the rejection comes before the test gets to await it.
      read = streamBoundedMessage(req, 1 << 20, "pause", () => {
        calls++;
        throw new Error("disk full");
      }).catch((err: unknown) => err);
    });
    post(port, [Buffer.alloc(1000), Buffer.alloc(1000)], { "transfer-encoding": "chunked" });
    await expect.poll(() => read !== undefined).toBe(true);
    expect(await read).toMatchObject({ message: "disk full" });
    expect(calls).toBe(1);
    expect(message?.destroyed).toBe(true);
  });
});
