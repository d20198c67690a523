import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes, HostPathError } from "../../../../src/errors/index.js";
import type { SandboxDirs } from "../../../../src/server/runtime/state-dir.js";
import { checkVolumes } from "../../../../src/server/runtime/volume-checks.js";
import { type TempDir, tempDir } from "../../../helpers/temp-dir.js";

// The runtime's last check of a start's volumes (src/server/runtime/volume-checks.ts), attacked as
// a sandbox sharing a volume's parent would: it swaps the folder for a symlink after the request's
// own check. Its refusals reach the caller as a 400 (src/server/methods/start.ts), so they must say
// neither where the symlink leads nor whether that place exists, nor where the server keeps its state.
describe("checkVolumes: a host path that changed after the request's check", () => {
  let temp: TempDir;
  let project: string;
  let outside: string;
  let state: string;
  let dirs: SandboxDirs;
  beforeEach(async () => {
    temp = await tempDir("msbv-volume-checks-");
    project = path.join(temp.path, "project");
    outside = path.join(temp.path, "outside-secret");
    state = path.join(temp.path, "server-state");
    dirs = {
      root: path.join(state, "sb"),
      rw: path.join(state, "sb", "rw"),
      rootfs: path.join(state, "sb", "rw", "root"),
      home: path.join(state, "sb", "rw", "home"),
      dotSandbox: path.join(state, "sb", "dot"),
    };
    await mkdir(project, { recursive: true });
    await mkdir(path.join(outside, "dir"), { recursive: true });
    await writeFile(path.join(outside, "file"), "x");
    await mkdir(dirs.home, { recursive: true });
  });
  afterEach(async () => temp.remove());

  async function refusal(host: string, guest = "/data"): Promise<HostPathError> {
    const error = await checkVolumes("sb", [{ host, guest }], state, dirs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostPathError);
    return error as HostPathError;
  }

  it("gives the same refusal wherever a planted symlink leads: an existing folder, a file, or nothing", async () => {
    const ws = path.join(project, "ws");
    const answers = [];
    for (const target of ["dir", "file", "missing"]) {
      await rm(ws, { force: true });
      await symlink(path.join(outside, target), ws);
      const error = await refusal(ws);
      answers.push([error.code, error.message]);
      expect(error.message).not.toContain(outside);
    }
    expect(answers[0]![0]).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // The same through a symlinked parent folder.
    await rm(ws);
    await symlink(path.join(outside, "missing"), path.join(project, "parent"));
    expect((await refusal(path.join(project, "parent", "ws"))).message).toContain(`"${path.join(project, "parent")}" is a symlink`);
  });

  it("control: a folder that is really missing, or a file, is still MSBV_HOST_PATH_INVALID", async () => {
    expect((await refusal(path.join(project, "missing"))).code).toBe(ErrorCodes.HOST_PATH_INVALID);
    await writeFile(path.join(project, "file"), "x");
    expect((await refusal(path.join(project, "file"))).code).toBe(ErrorCodes.HOST_PATH_INVALID);
    await mkdir(path.join(project, "ok"));
    await expect(checkVolumes("sb", [{ host: path.join(project, "ok"), guest: "/data" }], state, dirs)).resolves.toBeUndefined();
  });

  // For callers of the runtime that skip the request check; the rule is the volume model's own
  // (src/volumes/parse-spec.ts notTextIssue), so its words name the side.
  it("refuses a host or guest path holding a lone surrogate (not text) as an invalid option; control: the same paths as text pass", async () => {
    await mkdir(path.join(project, "ok"));
    for (const [host, guest, side] of [
      [path.join(project, "ok"), "/data/\udc80x", "guest"],
      [path.join(project, "ok"), "/data/\ud800x", "guest"],
      [path.join(project, "ok\ud800"), "/data", "host"],
    ] as const) {
      await expect(checkVolumes("sb", [{ host, guest }], state, dirs)).rejects.toMatchObject({
        code: ErrorCodes.INVALID_OPTION,
        message: expect.stringContaining(`the ${side} path is not valid Unicode text: it holds a lone UTF-16 surrogate`),
      });
    }
    await expect(checkVolumes("sb", [{ host: path.join(project, "ok"), guest: "/data/\ufffdx" }], state, dirs)).resolves.toBeUndefined();
  });

  it("names a symlink the sandbox planted in its /home by its guest path, not by where the server keeps the sandbox's state", async () => {
    await mkdir(path.join(project, "ok"));
    await symlink("/etc", path.join(dirs.home, "planted"));
    const error = await refusal(path.join(project, "ok"), "/home/planted/data");
    expect(error.code).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect(error.message).toContain("/home/planted");
    expect(error.message).not.toContain(state);
    // The host path stays in the details, for the server's log.
    expect(JSON.stringify(error.details)).toContain(path.join(dirs.home, "planted"));
  });
});
