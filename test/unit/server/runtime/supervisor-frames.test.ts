import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
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

function run(argv: string[], options: { credit?: number; onStdout?: (chunk: Buffer) => void; readFile?: { path: string; length: number } } = {}) {
  const out: Buffer[] = [];
  let stderr = "";
  let signal: string | null = null;
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
      } else stderr += chunk.toString("utf8");
    },
    onExit: (code, sig) => {
      signal = sig;
      settle(code);
    },
    // Never expected here: reported as an impossible exit code so the test names the failure.
    onSpawnError: () => settle(-1),
    onAck: (n) => {
      acked += n;
    },
  };
  const child = conn.spawn(argv, true, handlers, {
    ...(options.credit !== undefined ? { credit: options.credit } : {}),
    ...(options.readFile ? { readFile: options.readFile } : {}),
  });
  return { child, exit, out: () => Buffer.concat(out), acked: () => acked, stderr: () => stderr, signal: () => signal };
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

it("readFile: the supervisor sends exactly the first `length` bytes of a file, within the credit granted", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const path = join(dir, "read-me.bin");
  await writeFile(path, data);
  const length = 2.5 * 1024 * 1024;
  const credit = 256 * 1024;
  let granted = credit;
  let received = 0;
  let worst = 0;
  const r = run(["read", path], {
    credit,
    readFile: { path, length },
    onStdout: (chunk) => {
      received += chunk.length;
      worst = Math.max(worst, received - granted);
      setImmediate(() => {
        granted += chunk.length;
        r.child.grant(chunk.length);
      });
    },
  });
  expect(await r.exit).toBe(0);
  expect(r.out().equals(data.subarray(0, length))).toBe(true);
  // One read (1 MiB) at most beyond what was granted.
  expect(worst).toBeLessThanOrEqual(1024 * 1024);
  // Shorter than asked: all of it, and a clean exit (the caller compares the count).
  const all = run(["read", path], { readFile: { path, length: data.length + 1000 } });
  expect(await all.exit).toBe(0);
  expect(all.out().equals(data)).toBe(true);
});

// A FIFO with no writer: a blocking open would hang this test (it has no writer at all).
it("readFile refuses a FIFO (without waiting for a writer), a folder and a missing path with exit 2", async () => {
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const folder = join(dir, "folder");
  await mkdir(folder);
  for (const path of [fifo, folder, join(dir, "missing")]) {
    const r = run(["read", path], { readFile: { path, length: 10 } });
    expect(await r.exit).toBe(2);
    expect(r.out().length).toBe(0);
    expect(r.stderr()).toContain(path);
  }
});

it("readFile stops on kill while waiting for credit", async () => {
  const path = join(dir, "big.bin");
  await writeFile(path, Buffer.alloc(4 * 1024 * 1024));
  let got = 0;
  const r = run(["read", path], {
    credit: 1,
    readFile: { path, length: 4 * 1024 * 1024 },
    onStdout: (chunk) => {
      got += chunk.length;
      r.child.kill("SIGKILL");
    },
  });
  expect(await r.exit).toBe(null);
  expect(r.signal()).toBe("SIGKILL");
  expect(got).toBe(1024 * 1024);
});
