import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../src/config/index.js";
import { resolveBackend } from "../../../src/config/resolve-backend.js";
import type { LoadedConfig } from "../../../src/config/types.js";

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
