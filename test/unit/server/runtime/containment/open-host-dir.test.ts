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
      expect((await opened.handle.stat()).isDirectory()).toBe(true);
      expect(opened.uid).toBe(process.getuid?.());
    } finally {
      await opened.handle.close();
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
