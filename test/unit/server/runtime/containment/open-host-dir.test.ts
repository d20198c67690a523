import { execFileSync } from "node:child_process";
import { closeSync, fstatSync, openSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, isMsbvError } from "../../../../../src/index.js";
import { openHostDirNoFollow } from "../../../../../src/server/runtime/containment/open-host-dir.js";

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
