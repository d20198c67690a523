import { describe, expect, it } from "vitest";
import { isLoopbackHostHeader, normaliseOrigin, refuseForeignRequest } from "../../../../src/server/protocol/request-origin.js";
import { startDevServer } from "../../../../src/server/index.js";
import { FakeRuntime } from "../../../helpers/fake-runtime.js";
import { startHarness, send } from "../../../helpers/server-harness.js";

describe("isLoopbackHostHeader", () => {
  it.each([
    ["127.0.0.1:5555", true],
    ["127.1.2.3:5555", true],
    ["localhost:5555", true],
    ["LOCALHOST:5555", true],
    ["[::1]:5555", true],
    ["127.0.0.1:5556", false], // another port: not this server
    ["127.0.0.1", false], // no port means 80
    ["evil.example:5555", false], // DNS rebinding
    ["localhost.evil.example:5555", false],
    ["127.0.0.1.nip.io:5555", false],
    ["[::ffff:7f00:1]:5555", false],
    ["0.0.0.0:5555", false],
    ["", false],
  ])("%s -> %s", (host, ok) => {
    expect(isLoopbackHostHeader(host, 5555)).toBe(ok);
  });
  it("accepts a missing port only for port 80; refuses a missing header", () => {
    expect(isLoopbackHostHeader("localhost", 80)).toBe(true);
    expect(isLoopbackHostHeader(undefined, 80)).toBe(false);
  });
});

describe("normaliseOrigin", () => {
  it("keeps scheme, host and a non-default port; rejects non-http and null origins", () => {
    expect(normaliseOrigin("http://LocalHost:3000/")).toBe("http://localhost:3000");
    expect(normaliseOrigin("https://app.example:443")).toBe("https://app.example");
    expect(normaliseOrigin("null")).toBeUndefined();
    expect(normaliseOrigin("file:///x")).toBeUndefined();
  });
});

describe("refuseForeignRequest", () => {
  const policy = { port: () => 5555, loopbackHostOnly: true, allowedOrigins: new Set(["http://localhost:3000"]) };
  it("421 for a foreign Host, 403 for a foreign Origin, nothing for a local tool or an allowed origin", () => {
    expect(refuseForeignRequest({ host: "evil.example:5555" }, policy)?.status).toBe(421);
    expect(refuseForeignRequest({ host: "127.0.0.1:5555", origin: "http://evil.example" }, policy)?.status).toBe(403);
    expect(refuseForeignRequest({ host: "127.0.0.1:5555", origin: "null" }, policy)?.status).toBe(403);
    expect(refuseForeignRequest({ host: "127.0.0.1:5555" }, policy)).toBeUndefined();
    expect(refuseForeignRequest({ host: "127.0.0.1:5555", origin: "http://localhost:3000" }, policy)).toBeUndefined();
  });
  it("a server listening on a non-loopback address (auth required) does not check Host", () => {
    expect(refuseForeignRequest({ host: "build-box.lan:5555" }, { ...policy, loopbackHostOnly: false })).toBeUndefined();
  });
});

describe("allowOrigins on a dev server", () => {
  it("answers an allowed origin's preflight with that origin (never *), and refuses a bad flag value", async () => {
    const h = await startHarness({ dev: true, allowOrigins: ["http://localhost:3000"] });
    try {
      const ok = await send(`${h.server.url}/api/v1/rpc`, {
        method: "OPTIONS",
        headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
      const other = await send(`${h.server.url}/api/v1/rpc`, {
        method: "OPTIONS",
        headers: { origin: "http://localhost:3001", "access-control-request-method": "POST" },
      });
      expect(other.status).toBe(403);
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await h.close();
    }
    // Validated before anything is created or listened on.
    await expect(startDevServer({ port: 0, dev: true, allowOrigins: ["*"], runtime: new FakeRuntime() })).rejects.toMatchObject({
      code: "MSBV_DEV_SERVER",
    });
  });
});
