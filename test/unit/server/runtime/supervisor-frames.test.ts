import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SupervisorConnection, type ChildHandlers, type SpawnOptions } from "../../../../src/server/runtime/supervisor-connection.js";
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

type Builtin = Pick<SpawnOptions, "readFile" | "writeFile">;

function run(argv: string[], options: { credit?: number; onStdout?: (chunk: Buffer) => void } & Builtin = {}) {
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
    ...(options.writeFile ? { writeFile: options.writeFile } : {}),
  });
  return { child, exit, out: () => Buffer.concat(out), acked: () => acked, stderr: () => stderr, signal: () => signal };
}

/**
 * `run` with stdout credit that is granted back a little after each chunk (as the file channel does
 * once the client took it); how much arrived and the most ever received beyond what was granted.
 */
function runGranting(argv: string[], credit: number, builtin: Builtin = {}) {
  let granted = credit;
  let received = 0;
  let worst = 0;
  const r = run(argv, {
    ...builtin,
    credit,
    onStdout: (chunk) => {
      received += chunk.length;
      worst = Math.max(worst, received - granted);
      setImmediate(() => {
        granted += chunk.length;
        r.child.grant(chunk.length);
      });
    },
  });
  return { r, received: () => received, worst: () => worst };
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
  const { r, received, worst } = runGranting(["head", "-c", "2000000", "/dev/zero"], 100_000);
  expect(await r.exit).toBe(0);
  expect(received()).toBe(2_000_000);
  // A pipe read is at most 64 KiB: the overshoot past the grant is bounded by it.
  expect(worst()).toBeLessThanOrEqual(64 * 1024);
});

it("readFile: the supervisor sends exactly the first `length` bytes of a file, within the credit granted", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const path = join(dir, "read-me.bin");
  await writeFile(path, data);
  const length = 2.5 * 1024 * 1024;
  const { r, worst } = runGranting(["read", path], 256 * 1024, { readFile: { path, length } });
  expect(await r.exit).toBe(0);
  expect(r.out().equals(data.subarray(0, length))).toBe(true);
  // One read (1 MiB) at most beyond what was granted.
  expect(worst()).toBeLessThanOrEqual(1024 * 1024);
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

describe("writeFile", () => {
  function write(path: string, part: string, size: number, pieces: Buffer[]) {
    const r = run(["write", path], { writeFile: { path, part, size } });
    for (const piece of pieces) r.child.writeRaw([piece]);
    r.child.endInput();
    return r;
  }
  it("puts the bytes at the path only once exactly `size` bytes came; the part is gone", async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const path = join(dir, "written.bin");
    const part = `${path}.part`;
    const r = write(path, part, data.length, [data.subarray(0, 70_000), data.subarray(70_000)]);
    expect(await r.exit).toBe(0);
    expect(r.acked()).toBe(data.length);
    expect((await readFile(path)).equals(data)).toBe(true);
    expect(existsSync(part)).toBe(false);
  });

  it("a short or a long input leaves the path as it was and removes the part (exit 3)", async () => {
    const path = join(dir, "kept.txt");
    await writeFile(path, "before");
    const data = randomBytes(100_000);
    const long = write(path, `${path}.p1`, data.length - 1, [data]);
    expect(await long.exit).toBe(3);
    expect(long.stderr()).toContain(`more than the ${data.length - 1} bytes announced`);
    const short = write(path, `${path}.p2`, data.length + 1, [data]);
    expect(await short.exit).toBe(3);
    expect(short.stderr()).toContain(`after ${data.length} of ${data.length + 1} bytes`);
    expect(await readFile(path, "utf8")).toBe("before");
    expect(existsSync(`${path}.p1`) || existsSync(`${path}.p2`)).toBe(false);
  });

  it("the part becomes the path at end of input, with mode and mtime (the dev server checks the SHA-256 as it relays the bytes)", async () => {
    const data = randomBytes(300_000);
    const path = join(dir, "relayed.bin");
    const part = `${path}.part`;
    const r = run(["write", path], { writeFile: { path, part, size: data.length, mode: 0o640, mtime: 1_600_000_000 } });
    r.child.writeRaw([data]);
    r.child.endInput();
    expect(await r.exit).toBe(0);
    expect((await readFile(path)).equals(data)).toBe(true);
    const st = await stat(path);
    expect([st.mode & 0o777, Math.round(st.mtimeMs / 1000)]).toEqual([0o640, 1_600_000_000]);
    expect(existsSync(part)).toBe(false);
    // Killed instead (what the server does when its own hash does not match): nothing appears.
    const killedPath = join(dir, "relayed-killed.bin");
    const killed = run(["write", killedPath], { writeFile: { path: killedPath, part: `${killedPath}.part`, size: data.length } });
    killed.child.writeRaw([data]);
    killed.child.kill("SIGKILL");
    expect(await killed.exit).toBe(null);
    expect(existsSync(killedPath) || existsSync(`${killedPath}.part`)).toBe(false);
  });

  it("a link planted at the part's name is not written through", async () => {
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "victim");
    const part = join(dir, "planted.part");
    await symlink(victim, part);
    const data = Buffer.from("attacker bytes");
    const r = write(join(dir, "target.txt"), part, data.length, [data]);
    expect(await r.exit).toBe(1);
    expect(await readFile(victim, "utf8")).toBe("victim");
    // Control: an ordinary writer that opens the name follows the link into the victim.
    const control = run(["sh", "-c", 'printf x >> "$1"', "sh", part]);
    expect(await control.exit).toBe(0);
    expect(await readFile(victim, "utf8")).toBe("victimx");
  });

  it("a kill removes the part and writes nothing", async () => {
    const path = join(dir, "killed.bin");
    const part = `${path}.part`;
    const r = run(["write", path], { writeFile: { path, part, size: 10 } });
    r.child.writeRaw([Buffer.alloc(4)]);
    r.child.kill("SIGKILL");
    expect(await r.exit).toBe(null);
    expect(r.signal()).toBe("SIGKILL");
    expect(existsSync(path) || existsSync(part)).toBe(false);
  });
});
