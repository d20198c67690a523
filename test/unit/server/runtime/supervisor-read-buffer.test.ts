import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SUPERVISOR_NODE_FLAGS, SUPERVISOR_SCRIPT } from "../../../../src/server/runtime/supervisor-script.js";

// The supervisor's readFile reads every piece into one reused buffer. Its stdout is a socket, written
// asynchronously: a write still queued holds that buffer, so reading the next piece into it before the
// write is flushed would send the next piece's bytes (or another file's) as this one's. These tests hold
// the supervisor's stdout unread so that every write queues, and check each byte delivered; a copy of the
// script that reuses the buffer without waiting shows the tests would see it. The supervisor runs without
// bubblewrap: the buffer handling does not depend on it.

const MiB = 1024 * 1024;
let dir: string;
const files: Record<string, Buffer> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "msbv-readbuf-"));
  for (const name of ["a", "b", "c"]) {
    files[name] = randomBytes(6 * MiB + 12345);
    await writeFile(join(dir, name), files[name] as Buffer);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The readFile write that waits for its flush, replaced by one that reads on at once (the bug). */
function eagerCopy(): string {
  const waiting =
    /reader\.busy = true;\n\s*process\.stdout\.write\(reader\.buf\.subarray\(0, n\), \(\) => \{\n\s*reader\.busy = false;\n\s*pump\(id\);\n\s*\}\);/;
  expect(SUPERVISOR_SCRIPT).toMatch(waiting);
  return SUPERVISOR_SCRIPT.replace(waiting, "process.stdout.write(reader.buf.subarray(0, n));\n    pump(id);");
}

interface Outcome {
  out: Map<number, Buffer>;
  exits: Map<number, { code: number | null; signal: string | null }>;
}

/**
 * Runs `script`, sends `requests` (JSON lines), leaves its stdout unread until `whilePaused` is done, then
 * reads every frame until each id in `ids` has exited.
 */
async function session(
  script: string,
  ids: number[],
  requests: object[],
  whilePaused: (send: (m: object) => void) => Promise<void>,
): Promise<Outcome> {
  const child = spawn(process.execPath, [...SUPERVISOR_NODE_FLAGS, "-e", script, "readbuf-test", dir], { stdio: ["pipe", "pipe", "inherit"] });
  const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
  child.stdout.pause();
  for (const r of requests) send(r);
  await whilePaused(send);
  const out = new Map<number, Buffer[]>();
  const exits = new Map<number, { code: number | null; signal: string | null }>();
  let held = Buffer.alloc(0);
  let raw: { id: number; fd: number; left: number } | undefined;
  await new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", () => reject(new Error("the supervisor exited")));
    child.stdout.on("data", (data: Buffer) => {
      held = Buffer.concat([held, data]);
      for (;;) {
        if (raw) {
          const take = Math.min(raw.left, held.length);
          if (raw.fd === 1) out.set(raw.id, [...(out.get(raw.id) ?? []), held.subarray(0, take)]);
          raw.left -= take;
          held = held.subarray(take);
          if (raw.left > 0) return;
          raw = undefined;
        }
        const nl = held.indexOf(10);
        if (nl < 0) return;
        const msg = JSON.parse(held.subarray(0, nl).toString("utf8")) as {
          t: string;
          id: number;
          fd: number;
          n: number;
          code: number | null;
          signal: string | null;
        };
        held = held.subarray(nl + 1);
        if (msg.t === "raw") raw = { id: msg.id, fd: msg.fd, left: msg.n };
        if (msg.t === "exit") exits.set(msg.id, { code: msg.code, signal: msg.signal });
        if (ids.every((id) => exits.has(id))) return resolve();
      }
    });
    child.stdout.resume();
  });
  child.removeAllListeners("exit");
  child.stdin.end();
  await new Promise((resolve) => child.once("close", resolve));
  return { out: new Map([...out].map(([id, parts]) => [id, Buffer.concat(parts)])), exits };
}

const readAll = (id: number, name: string, credit?: number) => ({
  t: "spawn",
  id,
  argv: ["read"],
  ctl: false,
  readFile: { path: join(dir, name), length: 64 * MiB },
  ...(credit !== undefined ? { credit } : {}),
});

/** Lets the supervisor read and queue as much as it will while nobody reads its stdout. */
const queueUp = () => sleep(300);

it("three files read at once while every write queues: each one arrives byte for byte", async () => {
  const requests = [readAll(1, "a"), readAll(2, "b"), readAll(3, "c")];
  const { out, exits } = await session(SUPERVISOR_SCRIPT, [1, 2, 3], requests, queueUp);
  expect([...exits.values()]).toEqual([0, 0, 0].map((code) => ({ code, signal: null })));
  expect(out.get(1)?.equals(files.a as Buffer)).toBe(true);
  expect(out.get(2)?.equals(files.b as Buffer)).toBe(true);
  expect(out.get(3)?.equals(files.c as Buffer)).toBe(true);

  // Control: reusing the buffer before the write is flushed sends other bytes under these pieces' headers.
  const eager = await session(eagerCopy(), [1, 2, 3], requests, queueUp);
  expect([1, 2, 3].map((id) => eager.out.get(id)?.length)).toEqual([1, 2, 3].map(() => (files.a as Buffer).length));
  expect(["a", "b", "c"].filter((name, i) => !eager.out.get(i + 1)?.equals(files[name] as Buffer)).length).toBeGreaterThan(0);
});

it("credit granted and a kill sent while a write is queued: no piece is read over it, what arrives is the file's own prefix", async () => {
  const { out, exits } = await session(SUPERVISOR_SCRIPT, [1, 2], [readAll(1, "a", MiB), readAll(2, "b")], async (send) => {
    await queueUp();
    // More credit than the file while its first write is still queued (each grant calls the pump again).
    for (let i = 0; i < 8; i++) send({ t: "credit", id: 1, n: MiB });
    send({ t: "kill", id: 2, signal: "SIGKILL" });
    await queueUp();
  });
  expect(exits.get(1)).toEqual({ code: 0, signal: null });
  expect(out.get(1)?.equals(files.a as Buffer)).toBe(true);
  expect(exits.get(2)).toEqual({ code: null, signal: "SIGKILL" });
  const got = out.get(2) ?? Buffer.alloc(0);
  // Killed with its first write queued: that piece still goes out whole and right, nothing after it.
  expect(got.length).toBeLessThan((files.b as Buffer).length);
  expect(got.equals((files.b as Buffer).subarray(0, got.length))).toBe(true);

  // Control: with the eager reuse the same grants and kill deliver bytes that are not the files'.
  const eager = await session(eagerCopy(), [1, 2], [readAll(1, "a", MiB), readAll(2, "b")], async (send) => {
    await queueUp();
    for (let i = 0; i < 8; i++) send({ t: "credit", id: 1, n: MiB });
    send({ t: "kill", id: 2, signal: "SIGKILL" });
    await queueUp();
  });
  const eagerB = eager.out.get(2) ?? Buffer.alloc(0);
  const intact = eager.out.get(1)?.equals(files.a as Buffer) === true && eagerB.equals((files.b as Buffer).subarray(0, eagerB.length));
  expect(intact).toBe(false);
});
