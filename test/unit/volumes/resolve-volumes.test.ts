import { mkdir, stat, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, HostPathError } from "../../../src/errors/index.js";
import {
  canonicalizePath,
  defaultHostPathPolicy,
  parseVolumeSpec,
  resolveVolumes,
  toVolumeString,
  type HostPathPolicy,
  type VolumeSpec,
} from "../../../src/volumes/index.js";
import { caught } from "../../helpers/caught.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

let tmp: string; // canonical temp root
let tmpDir: TempDir;
let home: string; // fake home folder (HOME is pointed here for this file)
let project: string; // project folder inside the fake home
let outside: string; // a folder outside the project
const savedHome = process.env.HOME;

beforeAll(async () => {
  tmpDir = await tempDir("msbv-vol-");
  tmp = tmpDir.path;
  home = path.join(tmp, "home");
  project = path.join(home, "proj");
  outside = path.join(tmp, "outside");
  await mkdir(path.join(project, "ws", "deep"), { recursive: true });
  await mkdir(path.join(home, ".ssh"), { recursive: true });
  await mkdir(path.join(home, ".microsandbox", "projects"), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(project, "file.txt"), "x");
  await symlink(path.join(project, "ws"), path.join(project, "ws-link"));
  await symlink(outside, path.join(project, "out-link"));
  await symlink("/etc", path.join(project, "etc-link"));
  await symlink(path.join(tmp, "nowhere"), path.join(project, "dangling"));
  process.env.HOME = home;
});

afterAll(async () => {
  if (savedHome === undefined) delete process.env.HOME;
  else process.env.HOME = savedHome;
  await tmpDir.remove();
});

const policy = (allow: string[] = [], extraDenied: string[] = []): Promise<HostPathPolicy> =>
  defaultHostPathPolicy(project, { allow }).then((p) => ({ ...p, extraDenied }));
const rw = { readonlySupported: true };

describe("canonicalizePath", () => {
  it("resolves a symlinked prefix to the real folder and appends missing components", async () => {
    expect(await canonicalizePath(path.join(project, "ws-link", "deep"))).toBe(path.join(project, "ws", "deep"));
    expect(await canonicalizePath(path.join(project, "ws-link", "new", "x"))).toBe(path.join(project, "ws", "new", "x"));
  });

  it("normalises and makes relative paths absolute", async () => {
    expect(await canonicalizePath(`${project}/ws/./deep/../deep/`)).toBe(path.join(project, "ws", "deep"));
    expect(path.isAbsolute(await canonicalizePath("some/relative"))).toBe(true);
  });

  it("refuses a symlink as the final component", async () => {
    const e = await caught(canonicalizePath(path.join(project, "ws-link")));
    expect(e).toBeInstanceOf(HostPathError);
    expect(e.code).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect(e.message).toContain("is a symlink");
    expect(e.message).toContain("mount its target explicitly");
    expect(e.hint).toContain(path.join(project, "ws"));
  });

  it("refuses a path through a dangling symlink", async () => {
    const e = await caught(canonicalizePath(path.join(project, "dangling", "sub")));
    expect(e.code).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect(e.message).toContain("dangling symlink");
  });
});

describe("defaultHostPathPolicy", () => {
  it("uses the canonical project folder as the only root and canonicalises allow entries", async () => {
    const p = await defaultHostPathPolicy(path.join(project, "ws-link"), { allow: ["./out-link", "~/x"], baseDir: project });
    expect(p.allowedRoots).toEqual([path.join(project, "ws")]);
    expect(p.baseDir).toBe(project);
    expect(p.explicitlyAllowed).toEqual([outside, path.join(home, "x")]);
  });
});

describe("resolveVolumes", () => {
  it("resolves relative host paths against baseDir to canonical paths", async () => {
    const vols = await resolveVolumes(["./ws:/workspace", { host: "ws/deep", guest: "/deep/" }], await policy(), rw);
    expect(vols).toEqual([
      { host: path.join(project, "ws"), guest: "/workspace", readonly: false },
      { host: path.join(project, "ws", "deep"), guest: "/deep", readonly: false },
    ]);
  });

  it("expands a leading ~/ to the home folder", async () => {
    const vols = await resolveVolumes(["~/proj/ws:/w"], await policy(), rw);
    expect(vols[0]?.host).toBe(path.join(project, "ws"));
  });

  it("toVolumeString round-trips through parseVolumeSpec", async () => {
    const [v] = await resolveVolumes(["./ws:/workspace"], await policy(), rw);
    if (!v) throw new Error("no volume");
    const s = toVolumeString(v);
    expect(s).toBe(`${path.join(project, "ws")}:/workspace`);
    expect(parseVolumeSpec(s, 0)).toMatchObject({ host: v.host, guest: v.guest });
  });

  const refused: [string, VolumeSpec, string, string, string][] = [
    ["a missing folder", "./missing:/m", ErrorCodes.HOST_PATH_INVALID, "does not exist", "create: true"],
    ["a file", "./file.txt:/f", ErrorCodes.HOST_PATH_INVALID, "is a file, not a folder", "mount the folder that contains it"],
    ["a final symlink inside the project", "./ws-link:/w", ErrorCodes.HOST_PATH_DENIED, "is a symlink", "real path"],
    [
      "a folder reached through a symlink inside the project (sandbox-plantable)",
      "./ws-link/deep:/w",
      ErrorCodes.HOST_PATH_DENIED,
      "goes through the symlink",
      "real folder's path",
    ],
    ["a symlink to /etc", "./etc-link:/w", ErrorCodes.HOST_PATH_DENIED, "is a symlink", "/etc"],
    // Never canonicalised through: a link below the root is refused wherever it points.
    [
      "a folder reached through a symlink leading outside",
      "./out-link/sub:/w",
      ErrorCodes.HOST_PATH_DENIED,
      "goes through the symlink",
      "real folder's path",
    ],
    ["a folder outside the project", "../../outside:/w", ErrorCodes.HOST_PATH_DENIED, "outside the allowed roots", "[policy]"],
    ["the filesystem root", "/:/host", ErrorCodes.HOST_PATH_DENIED, "the filesystem root", "allow"],
    ["/etc", "/etc:/hostetc", ErrorCodes.HOST_PATH_DENIED, "a system folder", "allow"],
    ["/usr/share", "/usr/share:/x", ErrorCodes.HOST_PATH_DENIED, "a system folder", "allow"],
    ["/var/run/x (canonical /run/x)", "/var/run/x:/x", ErrorCodes.HOST_PATH_DENIED, "a system folder", "allow"],
    ["/lib/dpkg (merged /usr)", "/lib/dpkg:/x", ErrorCodes.HOST_PATH_DENIED, "a system folder", "allow"],
    ["the home folder itself", "~:/home", ErrorCodes.HOST_PATH_DENIED, "your home folder itself", "allow"],
    ["a parent of the home folder", "../..:/all", ErrorCodes.HOST_PATH_DENIED, "contains", "allow"],
    ["~/.ssh", "~/.ssh:/ssh", ErrorCodes.HOST_PATH_DENIED, "a credential folder", "allow"],
    ["a folder under ~/.ssh", "~/.ssh/keys:/ssh", ErrorCodes.HOST_PATH_DENIED, "a credential folder", "allow"],
    ["~/.microsandbox", "~/.microsandbox/projects:/m", ErrorCodes.HOST_PATH_DENIED, "microsandbox server's state folder", "allow"],
  ];

  it.each(refused)("refuses %s", async (_name, spec, code, msg, hint) => {
    const e = await caught(resolveVolumes([spec], await policy(), rw));
    expect(e.code).toBe(code);
    expect(e.message).toContain("volumes[0]");
    expect(e.message).toContain(msg);
    expect(e.hint).toContain(hint);
  });

  it("refuses a folder that contains a denied folder (extraDenied inside the request)", async () => {
    const e = await caught(resolveVolumes([".:/p"], await policy([], [path.join(project, "ws", "deep")]), rw));
    expect(e.code).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect(e.message).toContain(`contains a folder the server refuses to share (${path.join(project, "ws", "deep")})`);
  });

  it("allows exactly the explicitly allowed paths, not their subfolders", async () => {
    const p = await policy(["~/.ssh", outside, "/"]);
    const vols = await resolveVolumes(["~/.ssh:/ssh", `${outside}:/out`, "/:/host"], p, rw);
    expect(vols.map((v) => v.host)).toEqual([path.join(home, ".ssh"), outside, "/"]);
    await mkdir(path.join(outside, "sub"), { recursive: true });
    const e = await caught(resolveVolumes([`${outside}/sub:/o`], p, rw));
    expect(e.code).toBe(ErrorCodes.HOST_PATH_DENIED);
  });

  it("creates a missing folder only when asked, and only after everything validated", async () => {
    const p = await policy();
    const e = await caught(resolveVolumes([{ host: "./new-a/x", guest: "/a", create: true }, "./file.txt:/f"], p, rw));
    expect(e.code).toBe(ErrorCodes.HOST_PATH_INVALID);
    await expect(stat(path.join(project, "new-a"))).rejects.toThrow(/ENOENT/);
    const e2 = await caught(resolveVolumes([{ host: "./new-a/x", guest: "/a", create: true }, "./ws:/a"], p, rw));
    expect(e2.code).toBe(ErrorCodes.INVALID_VOLUME);
    await expect(stat(path.join(project, "new-a"))).rejects.toThrow(/ENOENT/);

    const [v] = await resolveVolumes([{ host: "./new-a/x", guest: "/a", create: true }], p, rw);
    expect(v?.host).toBe(path.join(project, "new-a", "x"));
    expect((await stat(path.join(project, "new-a", "x"))).isDirectory()).toBe(true);
    const [w] = await resolveVolumes(["./new-b:/b"], p, { readonlySupported: true, createMissing: true });
    expect((await stat(w?.host ?? "")).isDirectory()).toBe(true);
  });

  it("refuses readonly on a backend that cannot enforce it, and keeps it where it can", async () => {
    const spec = { host: "./ws", guest: "/w", readonly: true };
    const e = await caught(resolveVolumes([spec], await policy(), { readonlySupported: false }));
    expect(e.code).toBe(ErrorCodes.READONLY_UNSUPPORTED);
    expect(e.message).toContain("does not advertise read-only mounts");
    expect(e.hint).toBe("use the msbv dev server (msbv dev-server), which enforces it, or drop readonly");
    const [v] = await resolveVolumes([spec], await policy(), rw);
    expect(v?.readonly).toBe(true);
  });

  it("reports every spec problem in one error, before touching the filesystem", async () => {
    const e = await caught(resolveVolumes(["./ws:/workspace:ro", "", { host: "./ws", guest: "/etc" }, "./ws:/ok"], await policy(), rw));
    expect(e.code).toBe(ErrorCodes.INVALID_VOLUME);
    const problems = e.details.problems as { index: number }[];
    expect(problems.map((p) => p.index)).toEqual([0, 1, 2]);
  });

  it("reports every host problem in one error, denied first", async () => {
    const e = await caught(resolveVolumes(["./missing:/a", "/etc:/b", "./file.txt:/c"], await policy(), rw));
    expect(e.code).toBe(ErrorCodes.HOST_PATH_DENIED);
    const problems = e.details.problems as { index: number; code: string }[];
    expect(problems.map((p) => [p.index, p.code])).toEqual([
      [1, ErrorCodes.HOST_PATH_DENIED],
      [0, ErrorCodes.HOST_PATH_INVALID],
      [2, ErrorCodes.HOST_PATH_INVALID],
    ]);
  });

  it("refuses a canonical host path containing ':'", async () => {
    await mkdir(path.join(project, "odd"), { recursive: true });
    await symlink(path.join(project, "odd"), path.join(project, "odd-link"));
    await mkdir(path.join(project, "a:b"), { recursive: true });
    const e = await caught(resolveVolumes([{ host: "./odd", guest: "/x" }, "./odd/../a:b:/y"], await policy(), rw));
    // The string form splits at the first ':' so the second spec is refused as a spec error.
    expect(e.code).toBe(ErrorCodes.INVALID_VOLUME);
    const p = { ...(await policy()), baseDir: path.join(project, "a:b") };
    const e2 = await caught(resolveVolumes([{ host: ".", guest: "/x" }], p, rw));
    expect(e2.code).toBe(ErrorCodes.HOST_PATH_INVALID);
    expect(e2.message).toContain("contains ':'");
  });
});
