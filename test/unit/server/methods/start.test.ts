import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DevServerError, ErrorCodes, HostPathError, InvalidOptionError } from "../../../../src/errors/index.js";
import { call, startHarness, type Harness } from "../../../helpers/server-harness.js";

// sandbox.start when the runtime refuses a host folder after the request's own check passed (the
// path changed in between, e.g. a symlink planted by a sandbox sharing it): the caller gets a 400
// naming the host-path code and the fix, not a bare "Internal server error".
describe("sandbox.start: a runtime refusal of a host path", () => {
  let h: Harness;
  let params: Record<string, unknown>;
  beforeEach(async () => {
    h = await startHarness({ dev: true });
    const ws = join(h.root, "home", "projects", "ws");
    await mkdir(ws, { recursive: true });
    params = { sandbox: "b", config: { image: "microsandbox/python", volumes: [`${ws}:/data`] } };
  });
  afterEach(async () => h.close());

  it("is a 400 with the code, the reason and the fix", async () => {
    h.runtime.failStart = new HostPathError(ErrorCodes.HOST_PATH_DENIED, 'Refusing to mount "/x": a symlink appeared on its path after the check.', {
      hint: "remove the symlink from the host path and start again",
    });
    const reply = await h.rpc(call("sandbox.start", params));
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error:
        "Invalid volume for sandbox 'b': Refusing to mount \"/x\": a symlink appeared on its path after the check. Fix: remove the symlink from the host path and start again (MSBV_HOST_PATH_DENIED)",
      code: 2001,
    });
  });

  it("keeps host details out of the answer: they go to the log", async () => {
    h.runtime.failStart = new HostPathError(ErrorCodes.HOST_PATH_DENIED, 'Refusing to start sandbox "b": a volume\'s host folder was moved.', {
      details: { bwrap: "bwrap: Can't bind mount /oldroot/srv/elsewhere/ws on /newroot/data", realHost: "/srv/secret" },
    });
    const reply = await h.rpc(call("sandbox.start", params));
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.json)).not.toMatch(/elsewhere|secret/);
    expect(h.logs.join("\n")).toContain("/srv/secret");
  });

  it("is found under a wrapping error too", async () => {
    const inner = new HostPathError(ErrorCodes.HOST_PATH_INVALID, 'Cannot mount "/x": not an openable folder (ENOTDIR).');
    h.runtime.failStart = new DevServerError("claim failed", { cause: inner });
    const reply = await h.rpc(call("sandbox.start", params));
    expect(reply.status).toBe(400);
    expect((reply.json as { error: string }).error).toMatch(/not an openable folder \(ENOTDIR\)\. \(MSBV_HOST_PATH_INVALID\)$/);
  });

  it("an option only the runtime bounds (an environment over its size) is a 400 too, named as config", async () => {
    h.runtime.failStart = new InvalidOptionError(
      'Invalid envs for sandbox "b": 70000 bytes in 2 entries, over the 65536-byte limit of a sandbox\'s environment.',
      {
        hint: "pass large values as files",
      },
    );
    const reply = await h.rpc(call("sandbox.start", params));
    expect(reply.status).toBe(400);
    expect((reply.json as { error: string }).error).toMatch(
      /^Invalid config for sandbox 'b': Invalid envs .* Fix: pass large values as files \(MSBV_INVALID_OPTION\)$/,
    );
  });

  it("control: any other runtime failure stays the legacy 500 with its cause in the log only", async () => {
    h.runtime.failStart = new DevServerError('Cannot start sandbox "b": bwrap exited', { details: { secret: "/host/path" } });
    const reply = await h.rpc(call("sandbox.start", params));
    expect(reply.status).toBe(500);
    expect((reply.json as { error: string }).error).toBe("Internal server error");
    expect(h.logs.join("\n")).toContain("bwrap exited");
  });
});
