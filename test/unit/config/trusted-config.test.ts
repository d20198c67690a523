import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isInsideDeclaredVolume, refuseMissingFoldersInProjectState, refuseVolumesExposingConfig } from "../../../src/config/trusted-config.js";
import { ErrorCodes } from "../../../src/errors/index.js";
import { parseVolumeSpec } from "../../../src/volumes/index.js";

const parsed = (...specs: string[]) => specs.map((s, i) => parseVolumeSpec(s, i));

let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), "msbv-trust-")));
  await mkdir(path.join(root, "ws", "deep"), { recursive: true });
  await writeFile(path.join(root, "microsandbox.toml"), "");
});
afterEach(() => rm(root, { recursive: true, force: true }));

const vol = (host: string) => ({ host, guest: "/g", readonly: false });
const trust = () => ({ configFile: path.join(root, "microsandbox.toml"), projectDir: root });

describe("refuseVolumesExposingConfig", () => {
  it("refuses the project folder, an ancestor, .microsandbox and inside it; accepts a sub-folder", async () => {
    for (const host of [root, path.dirname(root), path.join(root, ".microsandbox"), path.join(root, ".microsandbox", "sync")]) {
      await expect(refuseVolumesExposingConfig([vol(host)], trust())).rejects.toMatchObject({ code: ErrorCodes.VOLUME_EXPOSES_CONFIG });
    }
    await expect(refuseVolumesExposingConfig([vol(path.join(root, "ws"))], trust())).resolves.toBeUndefined();
  });
  it("a sibling whose name starts like the project is not inside it", async () => {
    await expect(refuseVolumesExposingConfig([vol(`${root}-other`)], trust())).resolves.toBeUndefined();
  });
  it("compares canonical paths: a config reached through a symlinked project folder is still found", async () => {
    const link = `${root}-link`;
    await symlink(root, link);
    try {
      await expect(
        refuseVolumesExposingConfig([vol(root)], { configFile: path.join(link, "microsandbox.toml"), projectDir: link }),
      ).rejects.toMatchObject({ code: ErrorCodes.VOLUME_EXPOSES_CONFIG });
    } finally {
      await rm(link);
    }
  });
});

describe("isInsideDeclaredVolume", () => {
  it("names the ancestor whose volume holds the file, in string and object form, [defaults] or a sandbox", async () => {
    const candidate = path.join(root, "ws", "deep", "microsandbox.toml");
    await writeFile(path.join(root, "microsandbox.toml"), '[sandboxes.a]\nvolumes = ["./ws:/w"]\n');
    expect(await isInsideDeclaredVolume(candidate, "microsandbox.toml")).toBe(path.join(root, "microsandbox.toml"));
    await writeFile(path.join(root, "microsandbox.toml"), '[[defaults.volumes]]\nhost = "./ws/deep"\nguest = "/w"\n');
    expect(await isInsideDeclaredVolume(candidate, "microsandbox.toml")).toBe(path.join(root, "microsandbox.toml"));
  });
  it("undefined when no ancestor declares such a volume, or the ancestor is not valid TOML", async () => {
    const candidate = path.join(root, "ws", "deep", "microsandbox.toml");
    await writeFile(path.join(root, "microsandbox.toml"), '[sandboxes.a]\nvolumes = ["./other:/w"]\n');
    expect(await isInsideDeclaredVolume(candidate, "microsandbox.toml")).toBeUndefined();
    await writeFile(path.join(root, "microsandbox.toml"), "[[[ not toml");
    expect(await isInsideDeclaredVolume(candidate, "microsandbox.toml")).toBeUndefined();
  });
});

describe("refuseMissingFoldersInProjectState", () => {
  it("refuses a missing folder inside .microsandbox/ before anything could create it; ignores existing folders", async () => {
    const t = trust();
    await expect(refuseMissingFoldersInProjectState(parsed("./.microsandbox/new:/g"), t, root)).rejects.toMatchObject({
      code: ErrorCodes.VOLUME_EXPOSES_CONFIG,
    });
    await expect(refuseMissingFoldersInProjectState(parsed("./ws/new:/g", "./:/p"), t, root)).resolves.toBeUndefined();
  });
});

describe("isInsideDeclaredVolume through symlinks", () => {
  it("a planted symlink named microsandbox.toml inside the volume is caught even though its target lies outside", async () => {
    await writeFile(path.join(root, "microsandbox.toml"), '[sandboxes.a]\nvolumes = ["./ws:/w"]\n');
    await mkdir(path.join(root, "elsewhere"));
    await writeFile(path.join(root, "elsewhere", "other.toml"), "");
    await symlink(path.join(root, "elsewhere", "other.toml"), path.join(root, "ws", "microsandbox.toml"));
    expect(await isInsideDeclaredVolume(path.join(root, "ws", "microsandbox.toml"), "microsandbox.toml")).toBe(path.join(root, "microsandbox.toml"));
  });
  it("a candidate reached through a symlinked folder is checked against the real folder's ancestors", async () => {
    await writeFile(path.join(root, "microsandbox.toml"), '[sandboxes.a]\nvolumes = ["./ws:/w"]\n');
    await writeFile(path.join(root, "ws", "microsandbox.toml"), "");
    const link = `${root}-wslink`;
    await symlink(path.join(root, "ws"), link);
    try {
      expect(await isInsideDeclaredVolume(path.join(link, "microsandbox.toml"), "microsandbox.toml")).toBe(path.join(root, "microsandbox.toml"));
    } finally {
      await rm(link);
    }
  });
});
