import { execFileSync, spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, isMsbvError } from "../../../../../src/index.js";
import { openHostDirNoFollow } from "../../../../../src/server/runtime/containment/open-host-dir.js";
import { RENAME_SWAP_LOOP } from "../../../../e2e/containment/containment-fixture.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "msbv-open-dir-"));
  await mkdir(path.join(root, "real", "sub"), { recursive: true });
  await symlink(path.join(root, "real"), path.join(root, "link"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("openHostDirNoFollow", () => {
  it("opens a real folder and reports its owner", async () => {
    const opened = await openHostDirNoFollow(path.join(root, "real", "sub"), "test");
    try {
      expect(fstatSync(opened.handle.fd).isDirectory()).toBe(true);
      expect(opened.uid).toBe(process.getuid?.());
    } finally {
      await opened.handle.close();
    }
    // A second close is a no-op, never a close of whatever reused the number since.
    const reused = openSync(root, "r");
    try {
      await opened.handle.close();
      expect(fstatSync(reused).isDirectory()).toBe(true);
    } finally {
      closeSync(reused);
    }
  });

  it("refuses a symlink in the last or in a middle component with HOST_PATH_DENIED", async () => {
    for (const p of [path.join(root, "link"), path.join(root, "link", "sub")]) {
      const error = await openHostDirNoFollow(p, "test").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMsbvError(error) && error.code, p).toBe(ErrorCodes.HOST_PATH_DENIED);
    }
  });

  it("refuses relative or non-normalised paths and reports a missing folder as HOST_PATH_INVALID", async () => {
    for (const p of ["relative/dir", `${root}/real/../real`]) {
      const error = await openHostDirNoFollow(p, "test").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMsbvError(error) && error.code, p).toBe(ErrorCodes.HOST_PATH_DENIED);
    }
    const missing = await openHostDirNoFollow(path.join(root, "nope"), "test").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMsbvError(missing) && missing.code).toBe(ErrorCodes.HOST_PATH_INVALID);
  });
});

// A server out of descriptors is the server's fault: sandbox.start answers a HostPathError as a 400
// blaming the caller's path (src/server/methods/start.ts), so this must stay a DevServerError (500).
describe("openHostDirNoFollow when the server is out of descriptors", () => {
  it("is not a host-path refusal (EMFILE), while a missing folder is (control)", async () => {
    const target = path.join(root, "real", "sub");
    const [soft, hard] = execFileSync("prlimit", ["--pid", String(process.pid), "--nofile", "--raw", "--noheadings", "--output=SOFT,HARD"], {
      encoding: "utf8",
    })
      .trim()
      .split(/\s+/);
    const highest = Math.max(...readdirSync("/proc/self/fd").map(Number));
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${highest + 64}:${hard}`]);
    const held: number[] = [];
    let outcome: unknown;
    try {
      // Take every descriptor left, then give one back: "/" opens, the next component cannot.
      for (;;) {
        try {
          held.push(openSync(root, "r"));
        } catch {
          break;
        }
      }
      closeSync(held.pop()!);
      outcome = await openHostDirNoFollow(target, "test").then(
        () => "opened",
        (error: unknown) => error,
      );
    } finally {
      for (const fd of held) closeSync(fd);
      execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${soft}:${hard}`]);
    }
    expect(isMsbvError(outcome) && outcome.code).toBe(ErrorCodes.DEV_SERVER);
    expect((outcome as Error).message).toMatch(/EMFILE/);
    const missing = await openHostDirNoFollow(path.join(root, "missing"), "test").catch((error: unknown) => error);
    expect(isMsbvError(missing) && missing.code).toBe(ErrorCodes.HOST_PATH_INVALID);
  });
});

// The walk is synchronous (on the dev server's one thread): a component that could make an open block
// (a FIFO waits for a writer) would stall the whole server, not one thread-pool thread. O_DIRECTORY is
// checked before the open reaches the file, so none of them may block, and none may leak a descriptor.
describe("openHostDirNoFollow on special files and under a rename race", () => {
  const openFds = () => readdirSync("/proc/self/fd").length;
  const outcomeOf = (p: string) =>
    openHostDirNoFollow(p, "test").then(
      async (opened) => {
        await opened.handle.close();
        return { opened: opened.ino };
      },
      (error: unknown) => ({ refused: isMsbvError(error) ? error.code : String(error) }),
    );

  it("refuses a FIFO, a socket, a device node and a file, at the end or in the middle, without blocking or leaking", async () => {
    const dir = path.join(root, "special");
    await mkdir(dir);
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    execFileSync("python3", ["-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path.join(dir, "sock"))})`]);
    execFileSync("sh", ["-c", `: > ${JSON.stringify(path.join(dir, "file"))}`]);
    const device = process.getuid?.() === 0 ? ["null"] : [];
    if (device.length) execFileSync("mknod", [path.join(dir, "null"), "c", "1", "3"]);
    const before = openFds();
    for (const name of ["fifo", "sock", "file", ...device]) {
      for (const p of [path.join(dir, name), path.join(dir, name, "below")]) {
        expect(await outcomeOf(p), p).toEqual({ refused: ErrorCodes.HOST_PATH_INVALID });
      }
    }
    // Control: the folder beside them opens.
    expect(await outcomeOf(dir)).toHaveProperty("opened");
    expect(openFds()).toBe(before);
  });

  it("never opens what a symlink swapped in and out of a component leads to, and holds no descriptor after a thousand walks", async () => {
    const race = path.join(root, "race");
    const secret = path.join(root, "secret");
    await mkdir(path.join(race, "a", "mid", "leaf"), { recursive: true });
    await mkdir(path.join(secret, "leaf"), { recursive: true });
    await symlink(secret, path.join(race, "b"));
    const secretIno = fstatInoOf(path.join(secret, "leaf"));
    const realIno = fstatInoOf(path.join(race, "a", "mid", "leaf"));
    // "a/mid" (a folder) and "b" (a symlink to a folder outside) trade places over and over.
    const swapper = spawn(
      "python3",
      [
        "-c",
        `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\npairs = [(${JSON.stringify(path.join(race, "a", "mid"))}.encode(), ${JSON.stringify(path.join(race, "b"))}.encode())]\nprint("ready", flush=True)\n${RENAME_SWAP_LOOP}`,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    try {
      await new Promise((resolve) => swapper.stdout.once("data", resolve));
      const before = openFds();
      const seen = new Set<string>();
      for (let i = 0; i < 1000; i++) {
        const outcome = await outcomeOf(path.join(race, "a", "mid", "leaf"));
        expect("opened" in outcome ? outcome.opened : undefined).not.toBe(secretIno);
        seen.add("opened" in outcome ? (outcome.opened === realIno ? "real" : "other") : outcome.refused);
      }
      expect(openFds()).toBe(before);
      // The race really ran: both the folder and the symlink were met at that component.
      expect(seen).toContain("real");
      expect(seen).toContain(ErrorCodes.HOST_PATH_DENIED);
      expect(seen).not.toContain("other");
      // Control: an open that follows the path reaches the folder outside during the same race.
      let followed = false;
      for (let i = 0; i < 10_000 && !followed; i++)
        followed = (() => {
          try {
            return fstatInoOf(path.join(race, "a", "mid", "leaf")) === secretIno;
          } catch {
            return false;
          }
        })();
      expect(followed).toBe(true);
    } finally {
      swapper.kill("SIGKILL");
    }
  });
});

function fstatInoOf(p: string): number {
  const fd = openSync(p, "r");
  try {
    return fstatSync(fd).ino;
  } finally {
    closeSync(fd);
  }
}
