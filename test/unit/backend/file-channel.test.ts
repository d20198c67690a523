import { once } from "node:events";
import { createServer, type ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { HttpFileChannel } from "../../../src/backend/file-channel.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { caught } from "../../helpers/caught.js";

// The client half of the sync file channel's GET (src/backend/file-channel.ts) against a plain local
// HTTP server: pieces are handed over as they arrive, never more than asked for, and a receiver's own
// error is the one the call fails with.

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A channel to a server whose every GET is answered by `answer`. */
async function channelTo(answer: (res: ServerResponse) => void): Promise<HttpFileChannel> {
  server = createServer((req, res) => {
    req.resume();
    answer(res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return new HttpFileChannel({ url, route: "/_dev/sync/file", maxBytes: 1 << 30, compress: false, headers: {} });
}

/** Streams `pieces` as a chunked answer (no Content-Length: an overflow is found while reading). */
function stream(pieces: Buffer[]) {
  return (res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    for (const p of pieces) res.write(p);
    res.end();
  };
}

it("hands the answer over piece by piece, in order, exactly as sent", async () => {
  const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
  const channel = await channelTo(stream([body.subarray(0, 100_000), body.subarray(100_000, 250_000), body.subarray(250_000)]));
  const got: Buffer[] = [];
  await channel.get("s", "/tmp/f", body.length, (piece) => void got.push(piece));
  expect(Buffer.concat(got).equals(body)).toBe(true);
});

it("more bytes than asked for fail with MSBV_RESPONSE_TOO_LARGE after at most that many were handed over", async () => {
  const channel = await channelTo(stream([Buffer.alloc(40_000, 1), Buffer.alloc(40_000, 2), Buffer.alloc(40_000, 3)]));
  let handed = 0;
  const err = await caught(
    channel.get("s", "/tmp/f", 100_000, (piece) => {
      handed += piece.length;
    }),
  );
  expect(err).toMatchObject({ code: ErrorCodes.RESPONSE_TOO_LARGE });
  expect(handed).toBeLessThanOrEqual(100_000);
  // Control: the same answer is taken whole when that is what was asked for.
  handed = 0;
  await channel.get("s", "/tmp/f", 120_000, (piece) => {
    handed += piece.length;
  });
  expect(handed).toBe(120_000);
});

it("a receiver that throws ends the download with its own error, not a transport failure", async () => {
  const channel = await channelTo(stream([Buffer.alloc(70_000), Buffer.alloc(70_000)]));
  const refusal = Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
  let calls = 0;
  const err = await channel
    .get("s", "/tmp/f", 1 << 20, () => {
      calls++;
      throw refusal;
    })
    .then(
      () => "resolved",
      (e: unknown) => e,
    );
  expect(err).toBe(refusal);
  expect(calls).toBe(1);
});

it("a refusal is a typed error and hands nothing over", async () => {
  const channel = await channelTo((res) => {
    res.writeHead(422, { "content-type": "text/plain" });
    res.end("not a regular file");
  });
  let handed = 0;
  const err = await caught(
    channel.get("s", "/tmp/link", 100, (piece) => {
      handed += piece.length;
    }),
  );
  expect(err).toMatchObject({ code: ErrorCodes.SERVER_ERROR, status: 422 });
  expect(handed).toBe(0);
});
