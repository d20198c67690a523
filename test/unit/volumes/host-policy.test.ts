import { mkdir, rename, symlink } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalDenied, hostPolicyViolation } from "../../../src/volumes/host-policy.js";
import { tempDir } from "../../helpers/temp-dir.js";

// The deny list (src/volumes/host-policy.ts) is read afresh, synchronously, at every check: a host
// process re-pointing a denied symlink between two checks gets the new target refused by the second.

describe("canonicalDenied", () => {
  it("judges a denied symlink by where it points at the time of each check", async () => {
    await using dir = await tempDir("msbv-deny-race-");
    const [before, after] = [path.join(dir.path, "before"), path.join(dir.path, "after")];
    await mkdir(before);
    await mkdir(after);
    const link = path.join(dir.path, "secrets");
    await symlink(before, link);
    const policy = { baseDir: dir.path, allowedRoots: [dir.path], explicitlyAllowed: [], extraDenied: [link] };

    const first = await canonicalDenied([link], { microsandboxHome: false });
    // The racing host process: `secrets` now points at `after`.
    await symlink(after, `${link}.new`);
    await rename(`${link}.new`, link);
    const second = await canonicalDenied([link], { microsandboxHome: false });

    expect(hostPolicyViolation(before, policy, first)).toBeDefined();
    expect(hostPolicyViolation(after, policy, first)).toBeUndefined();
    expect(hostPolicyViolation(after, policy, second)).toBeDefined();
    expect(hostPolicyViolation(before, policy, second)).toBeUndefined();
  });

  it("reads shared parents once per check and still resolves each entry: folders under a symlinked parent get the parent's target", async () => {
    await using dir = await tempDir("msbv-deny-parent-");
    const real = path.join(dir.path, "real-home");
    await mkdir(path.join(real, ".ssh"), { recursive: true });
    const home = path.join(dir.path, "home");
    await symlink(real, home);
    const list = await canonicalDenied([path.join(home, ".ssh"), path.join(home, ".aws", "missing")], { microsandboxHome: false });
    const paths = list.map((d) => d.path);
    expect(paths).toContain(path.join(real, ".ssh"));
    expect(paths).toContain(path.join(real, ".aws", "missing"));
  });

  it("attack: a denied entry reached through a symlinked parent and itself a symlink into the project still refuses the project folder; a symlink loop is judged as written", async () => {
    await using dir = await tempDir("msbv-deny-chain-");
    const project = path.join(dir.path, "project");
    await mkdir(path.join(project, "keys"), { recursive: true });
    const realHome = path.join(dir.path, "real-home");
    await mkdir(realHome);
    await symlink(realHome, path.join(dir.path, "home"));
    // home -> real-home, and real-home/.ssh -> project/keys: the entry as written shares no prefix with the project.
    await symlink(path.join(project, "keys"), path.join(realHome, ".ssh"));
    await symlink("loop", path.join(dir.path, "loop"));
    const entries = [path.join(dir.path, "home", ".ssh"), path.join(dir.path, "loop", "x")];
    const policy = { baseDir: project, allowedRoots: [dir.path], explicitlyAllowed: [], extraDenied: entries };
    const list = await canonicalDenied(entries, { microsandboxHome: false });
    expect(hostPolicyViolation(path.join(project, "keys"), policy, list)?.message).toMatch(/is a folder the server refuses to share/);
    expect(hostPolicyViolation(project, policy, list)?.message).toMatch(/contains a folder the server refuses to share/);
    expect(list.map((d) => d.path)).toContain(path.join(dir.path, "loop", "x"));
    // Control: a sibling folder of the project is not refused.
    await mkdir(path.join(project, "work"));
    expect(hostPolicyViolation(path.join(project, "work"), policy, list)).toBeUndefined();
  });

  it("hands out a frozen list that a caller cannot change for the next one", async () => {
    const list = await canonicalDenied([], { microsandboxHome: false });
    expect(() => (list as unknown as unknown[]).push({ path: "/x" })).toThrow(TypeError);
    expect(() => {
      (list[0] as { path: string }).path = "/nowhere";
    }).toThrow(TypeError);
  });
});
