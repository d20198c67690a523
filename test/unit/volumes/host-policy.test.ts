import { mkdir, rename, symlink } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { canonicalDenied, hostPolicyViolation } from "../../../src/volumes/host-policy.js";
import { tempDir } from "../../helpers/temp-dir.js";

// Attack on the shared read of the deny list (src/volumes/host-policy.ts): a host process re-points
// a denied symlink while a check's read is under way, then a second check starts. The second check
// began after the change, so it must refuse the new target. The mock holds the first read's answer
// (real realpath, already done) until the attack is in place; it only decides the interleaving.

const gate = vi.hoisted(() => ({ path: "", resolved: undefined as (() => void) | undefined, release: undefined as Promise<void> | undefined }));
vi.mock("../../../src/volumes/canonicalize.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../../src/volumes/canonicalize.js")>();
  return {
    ...real,
    realpathLongestPrefix: async (p: string) => {
      const canon = await real.realpathLongestPrefix(p);
      if (p === gate.path && gate.release) {
        const release = gate.release;
        gate.release = undefined;
        gate.resolved?.();
        await release;
      }
      return canon;
    },
  };
});

describe("canonicalDenied under a burst", () => {
  it("refuses a symlink's new target for a check that started after the symlink was re-pointed", async () => {
    await using dir = await tempDir("msbv-deny-race-");
    const [before, after] = [path.join(dir.path, "before"), path.join(dir.path, "after")];
    await mkdir(before);
    await mkdir(after);
    const link = path.join(dir.path, "secrets");
    await symlink(before, link);
    let release!: () => void;
    gate.path = link;
    gate.release = new Promise<void>((resolve) => {
      release = resolve;
    });
    const firstResolved = new Promise<void>((resolve) => {
      gate.resolved = resolve;
    });

    const first = canonicalDenied([link], { microsandboxHome: false });
    await firstResolved;
    // The racing host process: `secrets` now points at `after`.
    await symlink(after, `${link}.new`);
    await rename(`${link}.new`, link);
    const second = canonicalDenied([link], { microsandboxHome: false });
    release();

    const policy = { baseDir: dir.path, allowedRoots: [dir.path], explicitlyAllowed: [], extraDenied: [link] };
    // Control: the check under way when the link moved saw the old target.
    expect(hostPolicyViolation(before, policy, await first)).toBeDefined();
    expect(hostPolicyViolation(after, policy, await second)).toBeDefined();
  });

  it("hands out a frozen list that a caller cannot change for the next one", async () => {
    const list = await canonicalDenied([], { microsandboxHome: false });
    expect(() => (list as unknown as unknown[]).push({ path: "/x" })).toThrow(TypeError);
    expect(() => {
      (list[0] as { path: string }).path = "/nowhere";
    }).toThrow(TypeError);
  });
});
