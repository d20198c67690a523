import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SupervisorConnection, type ChildHandlers } from "../../../../src/server/runtime/supervisor-connection.js";
import { SUPERVISOR_NODE_FLAGS, SUPERVISOR_SCRIPT } from "../../../../src/server/runtime/supervisor-script.js";

// The supervisor's raw frames (bulk bytes without base64/JSON) and per-child flow control, host side and
// supervisor side together. The supervisor runs here without bubblewrap: the framing does not depend on it.

let dir: string;
let conn: SupervisorConnection;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "msbv-frames-"));
  const args = [...SUPERVISOR_NODE_FLAGS, "-e", SUPERVISOR_SCRIPT, "msbv-frames-test", dir];
  conn = await SupervisorConnection.launch({
    bwrapPath: process.execPath,
    launch: { command: process.execPath, args, fds: [], bwrapArgv: [process.execPath, ...args] },
    name: "frames",
  });
});
afterAll(async () => {
  await conn?.terminate();
  await rm(dir, { recursive: true, force: true });
});

function run(argv: string[], options: { credit?: number; onStdout?: (chunk: Buffer) => void } = {}) {
  const out: Buffer[] = [];
  let acked = 0;
  let settle!: (code: number | null) => void;
  const exit = new Promise<number | null>((resolve) => {
    settle = resolve;
  });
  const handlers: ChildHandlers = {
    onData: (fd, chunk) => {
      if (fd === 1) {
        out.push(chunk);
        options.onStdout?.(chunk);
      }
    },
    onExit: (code) => settle(code),
    // Never expected here: reported as an impossible exit code so the test names the failure.
    onSpawnError: () => settle(-1),
    onAck: (n) => {
      acked += n;
    },
  };
  const child = conn.spawn(argv, true, handlers, options.credit !== undefined ? { credit: options.credit } : {});
  return { child, exit, out: () => Buffer.concat(out), acked: () => acked };
}

it("bytes written as raw frames reach the child's fd 3 unchanged and are acknowledged", async () => {
  const data = randomBytes(300_000);
  // Binary on purpose: every byte value, newlines and NULs included, must survive the framing.
  data[0] = 10;
  data[1] = 0;
  const r = run(["sh", "-c", "head -c 300000 <&3 | sha256sum"]);
  r.child.writeRaw([data.subarray(0, 1)]);
  r.child.writeRaw([data.subarray(1, 100_000), data.subarray(100_000, 100_001)]);
  r.child.writeRaw([data.subarray(100_001)]);
  r.child.endInput();
  expect(await r.exit).toBe(0);
  expect(r.out().toString().slice(0, 64)).toBe(createHash("sha256").update(data).digest("hex"));
  expect(r.acked()).toBe(300_000);
});

it("binary output arrives as raw frames, byte for byte", async () => {
  const r = run(["sh", "-c", "printf 'a\\nb\\0c'; head -c 200000 /dev/zero"]);
  expect(await r.exit).toBe(0);
  const out = r.out();
  expect(out.subarray(0, 5)).toEqual(Buffer.from("a\nb\0c"));
  expect(out.length).toBe(200_005);
});

it("a child spawned with credit never sends more than granted plus one pipe read", async () => {
  const credit = 100_000;
  let granted = credit;
  let received = 0;
  let worst = 0;
  const r = run(["head", "-c", "2000000", "/dev/zero"], {
    credit,
    onStdout: (chunk) => {
      received += chunk.length;
      worst = Math.max(worst, received - granted);
      // Grant back what was taken, a little later (as the file channel does once the client took it).
      setImmediate(() => {
        granted += chunk.length;
        r.child.grant(chunk.length);
      });
    },
  });
  expect(await r.exit).toBe(0);
  expect(received).toBe(2_000_000);
  // A pipe read is at most 64 KiB: the overshoot past the grant is bounded by it.
  expect(worst).toBeLessThanOrEqual(64 * 1024);
});
