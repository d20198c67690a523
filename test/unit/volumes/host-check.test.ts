import { mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors/index.js";
import { canonicalDenied, checkHostPath, type HostPathPolicy } from "../../../src/volumes/index.js";

// checkHostPath is the one host rule for the client and the dev server: what it refuses, and that
// it refuses an outside path without looking at it (same answer whether it exists or not).

let tmp: string;
let root: string;
let policy: HostPathPolicy;
beforeAll(async () => {
  tmp = await realpath(await mkdtemp(path.join(tmpdir(), "msbv-hostcheck-")));
  root = path.join(tmp, "root");
  await mkdir(path.join(root, "ws", "deep"), { recursive: true });
  await mkdir(path.join(tmp, "outside"));
  await symlink(path.join(tmp, "outside"), path.join(root, "ws", "planted"));
  await symlink(root, path.join(tmp, "root-alias")); // a machine symlink above the root
  policy = { baseDir: root, allowedRoots: [root], explicitlyAllowed: [], extraDenied: [path.join(root, "state")], denyMicrosandboxHome: false };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const check = async (host: string, mustExist = true) =>
  checkHostPath(host, policy, await canonicalDenied(policy.extraDenied, { microsandboxHome: false }), { mustExist });

describe("checkHostPath", () => {
  it("accepts a folder inside the root, relative or absolute, and says whether it exists", async () => {
    expect(await check("ws")).toEqual({ host: path.join(root, "ws"), exists: true });
    expect(await check(path.join(root, "ws", "new"), false)).toEqual({ host: path.join(root, "ws", "new"), exists: false });
  });

  it("follows a machine symlink above the root (the root's own spelling is used)", async () => {
    expect(await check(path.join(tmp, "root-alias", "ws", "deep"))).toEqual({ host: path.join(root, "ws", "deep"), exists: true });
  });

  it("refuses a symlink below the root, final or on the way", async () => {
    expect(await check("ws/planted")).toMatchObject({ code: ErrorCodes.HOST_PATH_DENIED, message: expect.stringContaining("is a symlink") });
    expect(await check("ws/planted/x", false)).toMatchObject({
      code: ErrorCodes.HOST_PATH_DENIED,
      message: expect.stringContaining("goes through the symlink"),
    });
  });

  it("gives one answer for an outside path, present or missing", async () => {
    const present = await check(path.join(tmp, "outside"));
    const missing = await check(path.join(tmp, "absent"));
    expect(present).toMatchObject({ code: ErrorCodes.HOST_PATH_DENIED });
    const text = (r: unknown, p: string) => JSON.stringify(r).replaceAll(p, "<P>");
    expect(text(present, path.join(tmp, "outside"))).toBe(text(missing, path.join(tmp, "absent")));
  });

  it("refuses denied folders and their parents before anything else", async () => {
    expect(await check("/etc")).toMatchObject({ code: ErrorCodes.HOST_PATH_DENIED, message: expect.stringContaining("a system folder") });
    expect(await check("state/x", false)).toMatchObject({ code: ErrorCodes.HOST_PATH_DENIED, message: expect.stringContaining("refuses to share") });
    expect(await check(".", false)).toMatchObject({ code: ErrorCodes.HOST_PATH_DENIED, message: expect.stringContaining("contains") });
  });

  it("requires the folder only when mustExist", async () => {
    expect(await check("missing")).toMatchObject({ code: ErrorCodes.HOST_PATH_INVALID, message: expect.stringContaining("does not exist") });
  });
});
