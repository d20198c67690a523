// The failure path end to end on a machine where no microVM can boot (CI: no /dev/kvm), against
// the REAL embedded runtime: the call rejects with MSBV_EMBEDDED_UNAVAILABLE naming KVM and the
// dev server, and leaves no runtime process and no sandbox record, so it fails the same way again.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedBackend } from "../../../src/backend/embedded/embedded-backend.js";
import { probeKvm } from "../../../src/backend/embedded/kvm.js";
import type { EmbeddedSdk } from "../../../src/backend/embedded/sdk.js";
import type { SandboxSpec } from "../../../src/backend/sandbox-spec.js";
import type { KvmVerdict } from "../../../src/backend/embedded/unavailable.js";
import { ErrorCodes } from "../../../src/errors/index.js";
import { caught } from "../../helpers/caught.js";
import { sdkOrSkip, tinyImageArchive } from "../../helpers/embedded-sdk.js";
import { processesMentioning } from "../../helpers/processes.js";
import { tempDir, type TempDir } from "../../helpers/temp-dir.js";

const TINY = "msbv-test/tiny:1";
let sdk: EmbeddedSdk | undefined;
let verdict: KvmVerdict;
let temp: TempDir | undefined;
let work: string;

beforeAll(async () => {
  temp = await tempDir("msbv-emb-fail-");
  work = temp.path;
  // Isolated runtime state: database, image cache and sandbox logs live here.
  process.env.MSB_HOME = path.join(work, "msb-home");
  sdk = await sdkOrSkip();
  verdict = await probeKvm();
});
afterAll(async () => {
  await temp?.remove();
});

function config(name: string, host: string): SandboxSpec {
  return { name, image: TINY, memory: 256, cpus: 1, volumes: [{ host, guest: "/workspace", readonly: true }], ports: [], envs: [], dependsOn: [] };
}

async function recordOf(name: string): Promise<string | undefined> {
  return sdk?.Sandbox.get(name).then(
    (h) => h.status,
    () => undefined,
  );
}

describe("embedded backend where no microVM can boot", () => {
  it("rejects before touching the runtime when KVM is unusable: no image pulled, no record, same error twice", async (ctx) => {
    if (!sdk || verdict.usable) return ctx.skip();
    const name = `emb-nokvm-${randomBytes(4).toString("hex")}`;
    const host = path.join(work, "project");
    await mkdir(host, { recursive: true });
    const backend = new EmbeddedBackend();
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await caught(backend.start({ ...config(name, host), image: "microsandbox/python" }));
      expect(err.code).toBe(ErrorCodes.EMBEDDED_UNAVAILABLE);
      expect(err.details).toMatchObject({ sandbox: name, reason: verdict.reason });
      expect(err.message).toMatch(/KVM/);
      expect(err.message).toMatch(/msbv dev-server/);
    }
    expect(await recordOf(name)).toBeUndefined();
    // python:3.12-slim was never pulled (Docker Hub is unreachable here anyway; the point is we never tried).
    expect((await sdk.Image.list()).map((i) => i.reference)).not.toContain("python:3.12-slim");
  });

  it("a boot that fails (probe bypassed, tiny image loaded offline) maps to MSBV_EMBEDDED_UNAVAILABLE and leaves nothing behind", async (ctx) => {
    if (!sdk || verdict.usable) return ctx.skip();
    await sdk.Image.load(await tinyImageArchive(work, TINY));
    const name = `emb-boot-${randomBytes(4).toString("hex")}`;
    const host = path.join(work, "project");
    await mkdir(host, { recursive: true });
    // Pretend KVM is fine so the real runtime really tries to boot and fails.
    const backend = new EmbeddedBackend({ probeKvm: async () => ({ usable: true, reason: "ok", detail: "forced by test" }) });
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await caught(backend.start(config(name, host)));
      expect(err.code).toBe(ErrorCodes.EMBEDDED_UNAVAILABLE);
      expect(err.details).toMatchObject({ sandbox: name, reason: "boot-failed" });
      expect(err.message).toMatch(/failed to boot/);
      expect(err.message).toMatch(/msbv dev-server/);
      // The runtime's own log says why; the SDK error alone only says "[BootStart] … signal 6".
      expect(String(err.details.runtimeLog)).toMatch(/kvm/i);
      expect(await recordOf(name)).toBeUndefined();
      expect(await processesMentioning(name)).toEqual([]);
    }
    expect((await sdk.Sandbox.list()).sandboxes.map((s) => s.name)).not.toContain(name);
  });

  it("control: the SDK alone leaves a stopped record after the same failed boot (what the cleanup removes)", async (ctx) => {
    if (!sdk || verdict.usable) return ctx.skip();
    await sdk.Image.load(await tinyImageArchive(work, TINY));
    const name = `emb-raw-${randomBytes(4).toString("hex")}`;
    const err = await sdk.Sandbox.builder(name)
      .image(TINY)
      .pullPolicy("never")
      .create()
      .catch((e: unknown) => e);
    expect(String(err)).toMatch(/BootStart/);
    expect(await recordOf(name)).toBe("stopped");
    const again = await sdk.Sandbox.builder(name)
      .image(TINY)
      .pullPolicy("never")
      .create()
      .catch((e: unknown) => e);
    expect(String(again)).not.toMatch(/BootStart/);
    await sdk.Sandbox.remove(name);
  });

  it("stop and commands on a name that never started are NOT_STARTED; its metrics say not running", async (ctx) => {
    if (!sdk) return ctx.skip();
    const backend = new EmbeddedBackend();
    expect((await caught(backend.stop("emb-never"))).code).toBe(ErrorCodes.NOT_STARTED);
    expect(await backend.metrics("emb-never")).toEqual([
      { name: "emb-never", running: false, cpu_usage: null, memory_usage: null, disk_usage: null },
    ]);
    expect((await caught(backend.runCommand("emb-never", "true", [], undefined))).code).toBe(ErrorCodes.NOT_STARTED);
  });
});
