import { describe, expect, it } from "vitest";
import { parseConfigText, resolveSandbox } from "../../../src/config/index.js";
import type { BackendKind } from "../../../src/config/option-rules.js";
import { resolveBackend } from "../../../src/config/resolve-backend.js";
import type { LoadedConfig } from "../../../src/config/types.js";
import { ErrorCodes } from "../../../src/errors/index.js";
import { caught } from "../../helpers/caught.js";
import { tempProject } from "../../helpers/temp-project.js";

function file(partial: Partial<LoadedConfig>): LoadedConfig {
  return { path: "/p/microsandbox.toml", dir: "/p", server: {}, policy: { allow: [] }, defaults: {}, sandboxes: {}, ...partial };
}

describe("resolveBackend", () => {
  it("call > sandbox > [defaults] > [server] > rpc", () => {
    const f = file({ server: { backend: "embedded" }, defaults: { backend: "rpc" }, sandboxes: { a: { backend: "embedded" } } });
    expect(resolveBackend({ backend: "rpc" }, f, "a")).toBe("rpc");
    expect(resolveBackend({}, f, "a")).toBe("embedded");
    expect(resolveBackend({}, f, "b")).toBe("rpc");
    expect(resolveBackend({}, file({ server: { backend: "embedded" } }), "b")).toBe("embedded");
    expect(resolveBackend({}, undefined, "b")).toBe("rpc");
  });
});

describe("backend key in microsandbox.toml", () => {
  it("is read from [server] and from a sandbox table", () => {
    const loaded = parseConfigText('[server]\nbackend = "embedded"\n\n[sandboxes.a]\nbackend = "rpc"\n', "/p/microsandbox.toml");
    expect(loaded.server.backend).toBe("embedded");
    expect(loaded.sandboxes.a?.backend).toBe("rpc");
  });
  it("refuses an unknown backend with the allowed names", () => {
    expect(() => parseConfigText('[server]\nbackend = "qemu"\n', "/p/microsandbox.toml")).toThrow(/backend must be "rpc" or "embedded"/);
  });
});

describe("resolveSandbox asks the chosen backend about read-only mounts", () => {
  async function project() {
    const p = await tempProject("msbv-backend-");
    await p.write("microsandbox.toml", '[sandboxes.box]\nbackend = "embedded"\nvolumes = [{ host = "./ws", guest = "/w", readonly = true }]\n');
    await p.mkdir("ws");
    return p;
  }

  it("the readonlySupported question names the resolved backend kind; its answer decides", async () => {
    const p = await project();
    const asked: BackendKind[] = [];
    const answer = (kinds: BackendKind[]) => async (_server: unknown, kind: BackendKind) => {
      asked.push(kind);
      return kinds.includes(kind);
    };
    const r = await resolveSandbox({ kind: "python", options: { name: "box" }, cwd: p.dir, env: {}, readonlySupported: answer(["embedded"]) });
    expect(r.backend).toBe("embedded");
    expect(r.sandbox.volumes).toEqual([{ host: `${p.dir}/ws`, guest: "/w", readonly: true }]);
    // The call's backend beats the file; a backend that cannot enforce it gets the usual refusal.
    const err = await caught(
      resolveSandbox({ kind: "python", options: { name: "box", backend: "rpc" }, cwd: p.dir, env: {}, readonlySupported: answer(["embedded"]) }),
    );
    expect(err.code).toBe(ErrorCodes.READONLY_UNSUPPORTED);
    expect(asked).toEqual(["embedded", "rpc"]);
  });
});
