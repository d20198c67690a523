import { createHash, randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import type { SandboxBackend } from "../../../src/backend/backend.js";
import type { FileChannel } from "../../../src/backend/file-channel.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import type { SandboxTarget } from "../../../src/sync/sandbox-shell.js";
import { downloadInto, downloadParts } from "../../../src/sync/transfer.js";
import { caught } from "../../helpers/caught.js";

// The one verification of a download (src/sync/transfer.ts) on the file channel's route, where each
// piece is hashed as it arrives: the bytes are accepted only at the size and SHA-256 the sandbox
// reported, whatever a misbehaving channel hands over. The channel is a fake here; the same checks
// through the real server and bubblewrap are in test/e2e/sync/file-channel.test.ts.

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A target whose file channel answers every GET with `pieces` (ignoring the length asked for, as a hostile server would). */
function targetServing(pieces: Buffer[], options: SandboxTarget["options"] = {}): { target: SandboxTarget; gets: number[] } {
  const gets: number[] = [];
  const channel: FileChannel = {
    maxBytes: 1 << 30,
    compress: false,
    put: () => Promise.reject(new Error("not used")),
    async get(_sandbox, _path, length, receive) {
      gets.push(length);
      for (const p of pieces) receive(p);
    },
  };
  const backend = {
    fileChannel: async () => channel,
    runCommand: () => Promise.reject(new Error("no command expected: the size and SHA-256 were reported")),
  } as unknown as SandboxBackend;
  return { target: { backend, name: "fake", options }, gets };
}

const body = randomBytes(300_000);
const split = [body.subarray(0, 65536), body.subarray(65536, 200_000), body.subarray(200_000)];

it("bytes that match the reported size and SHA-256 are handed over piece by piece and accepted", async () => {
  const { target, gets } = targetServing(split);
  const got: Buffer[] = [];
  await downloadInto(target, "file /x", "/x", [String(body.length), sha(body)], (p) => void got.push(p));
  expect(Buffer.concat(got).equals(body)).toBe(true);
  expect(gets).toEqual([body.length]);
  expect(Buffer.concat(await downloadParts(target, "file /x", "/x", [String(body.length), sha(body)])).equals(body)).toBe(true);
});

it("bytes that do not match the reported SHA-256 are refused", async () => {
  const flipped = Buffer.from(body);
  flipped[123_456] = (flipped[123_456] ?? 0) ^ 1;
  const { target } = targetServing([flipped]);
  const err = await caught(downloadInto(target, "file /x", "/x", [String(body.length), sha(body)], () => undefined));
  expect(err.code).toBe(ErrorCodes.SYNC_FAILED);
  expect(err.message).toMatch(/do not match the sandbox's SHA-256/);
});

it("more bytes than asked for, or fewer, are refused even when they hash to the reported SHA-256", async () => {
  // The extra bytes' own hash is reported: only the size check can catch the channel overstepping.
  const longer = Buffer.concat([body, Buffer.from("extra")]);
  const more = targetServing([longer]);
  const tooMany = await caught(downloadInto(more.target, "file /x", "/x", [String(body.length), sha(longer)], () => undefined));
  expect(tooMany.code).toBe(ErrorCodes.SYNC_FAILED);
  expect(tooMany.message).toMatch(new RegExp(`${longer.length} bytes received, the sandbox reported ${body.length}`));

  const shorter = body.subarray(0, 1000);
  const fewer = targetServing([shorter]);
  const tooFew = await caught(downloadInto(fewer.target, "file /x", "/x", [String(body.length), sha(shorter)], () => undefined));
  expect(tooFew.message).toMatch(/1000 bytes received/);
});

it("a reported size over maxTransferBytes is refused before anything is fetched", async () => {
  const { target, gets } = targetServing(split, { maxTransferBytes: 1000 });
  const err = await caught(downloadInto(target, "file /x", "/x", [String(body.length), sha(body)], () => undefined));
  expect(err.code).toBe(ErrorCodes.SYNC_TOO_LARGE);
  expect(gets).toEqual([]);
});
