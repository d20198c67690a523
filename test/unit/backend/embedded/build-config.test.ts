// Contract tests against the REAL installed addon: the SDK's no-boot `build()` shows what the
// runtime would be asked to do for each mapped option and volume form.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyConfig, MOUNT_POLICY } from "../../../../src/backend/embedded/build-config.js";
import type { EmbeddedSdk } from "../../../../src/backend/embedded/sdk.js";
import type { SandboxSpec } from "../../../../src/backend/sandbox-spec.js";
import { sdkOrSkip } from "../../../helpers/embedded-sdk.js";
import { tempDir, type TempDir } from "../../../helpers/temp-dir.js";

let sdk: EmbeddedSdk | undefined;
let home: TempDir | undefined;

beforeAll(async () => {
  home = await tempDir("msbv-emb-build-");
  process.env.MSB_HOME = home.path;
  // The SDK would switch to its hosted cloud backend on these two (MSB_API_KEY is also the legacy key).
  process.env.MSB_BACKEND = "cloud";
  process.env.MSB_API_KEY = "legacy-server-key";
  sdk = await sdkOrSkip();
});
afterAll(async () => {
  await home?.remove();
});

const base: SandboxSpec = { name: "contract", image: "microsandbox/python", memory: 1024, cpus: 2, volumes: [], ports: [], envs: [], dependsOn: [] };

async function built(config: SandboxSpec): Promise<Record<string, unknown>> {
  if (!sdk) throw new Error("no sdk");
  return (await applyConfig(sdk.Sandbox.builder(config.name), config).build()) as Record<string, unknown>;
}

describe("embedded builder mapping (real addon, no boot)", () => {
  it("pins the local backend even when the cloud variables are set", async (ctx) => {
    if (!sdk) return ctx.skip();
    expect(sdk.defaultBackendInfo()).toMatchObject({ kind: "local", source: "programmatic" });
    expect((await sdk.Sandbox.builder("pinned").image("alpine").build()) as Record<string, unknown>).toBeTypeOf("object");
  });

  it("maps image, memory, cpus, env, workdir, shell, scripts and ports", async (ctx) => {
    if (!sdk) return ctx.skip();
    const cfg = await built({
      ...base,
      envs: ["GREETING=hi=there", "EMPTY="],
      workdir: "/work",
      shell: "/bin/bash",
      scripts: { hello: "echo hi" },
      ports: ["8080:80", "3000"],
    });
    expect(cfg.image).toEqual({ Oci: { reference: "python:3.12-slim" } });
    expect(cfg.resources).toMatchObject({ memoryMib: 1024, cpus: 2 });
    expect(cfg.env).toEqual([
      { key: "GREETING", value: "hi=there" },
      { key: "EMPTY", value: "" },
    ]);
    expect(cfg.runtime).toMatchObject({ workdir: "/work", shell: "/bin/bash", scripts: { hello: "echo hi" } });
    expect(cfg.labels).toEqual({ "managed-by": "microsandbox-volumes" });
    const network = cfg.network as { ports: unknown[] };
    expect(network.ports).toEqual([
      { hostPort: 8080, guestPort: 80, protocol: "tcp", hostBind: "127.0.0.1" },
      { hostPort: 3000, guestPort: 3000, protocol: "tcp", hostBind: "127.0.0.1" },
    ]);
  });

  it("any other OCI reference is passed through; the node legacy name maps to node:22-slim", async (ctx) => {
    if (!sdk) return ctx.skip();
    expect((await built({ ...base, image: "ghcr.io/acme/tool:1.2" })).image).toEqual({ Oci: { reference: "ghcr.io/acme/tool:1.2" } });
    expect((await built({ ...base, image: "docker.io/microsandbox/node:latest" })).image).toEqual({ Oci: { reference: "node:22-slim" } });
  });

  it("every volume is a bind mount with mirrored host permissions and strict stat virtualisation; readonly where asked", async (ctx) => {
    if (!sdk) return ctx.skip();
    const cfg = await built({
      ...base,
      volumes: [
        { host: "/srv/project/src", guest: "/workspace", readonly: false },
        { host: "/srv/project/data", guest: "/data", readonly: true },
      ],
    });
    // The runtime keeps mounts ordered by guest path, not by declaration order.
    const mounts = [...(cfg.mounts as Array<{ guest: string }>)].sort((a, b) => a.guest.localeCompare(b.guest));
    expect(mounts).toEqual([
      {
        type: "Bind",
        host: "/srv/project/data",
        guest: "/data",
        options: { readonly: true, noexec: false, nosuid: false, nodev: false },
        statVirtualization: "strict",
        hostPermissions: "mirror",
        followRootSymlinks: false,
        quotaMib: null,
      },
      {
        type: "Bind",
        host: "/srv/project/src",
        guest: "/workspace",
        options: { readonly: false, noexec: false, nosuid: false, nodev: false },
        statVirtualization: MOUNT_POLICY.statVirtualization,
        hostPermissions: MOUNT_POLICY.hostPermissions,
        followRootSymlinks: false,
        quotaMib: null,
      },
    ]);
  });

  it("nested volumes (the code-execution-with-MCP layout) reach the runtime parent first, the nested one read-only", async (ctx) => {
    if (!sdk) return ctx.skip();
    const cfg = await built({
      ...base,
      volumes: [
        { host: "/srv/project/servers", guest: "/w/servers", readonly: true },
        { host: "/srv/project/ws", guest: "/w", readonly: false },
      ],
    });
    const mounts = cfg.mounts as Array<{ host: string; guest: string; options: { readonly: boolean } }>;
    expect(mounts.map((m) => [m.host, m.guest, m.options.readonly])).toEqual([
      ["/srv/project/ws", "/w", false],
      ["/srv/project/servers", "/w/servers", true],
    ]);
  });

  it("control: without our policy the runtime default is private host permissions (0600/0700 files)", async (ctx) => {
    if (!sdk) return ctx.skip();
    const raw = (await sdk.Sandbox.builder("raw")
      .image("alpine")
      .volume("/w", (m) => m.bind("/srv/x"))
      .build()) as { mounts: Array<{ hostPermissions: string }> };
    expect(raw.mounts[0]?.hostPermissions).toBe("private");
  });

  it("the runtime's own validation is typed (a relative guest path never reaches it from us: src/volumes refuses it first)", async (ctx) => {
    if (!sdk) return ctx.skip();
    const err = await sdk.Sandbox.builder("bad")
      .image("alpine")
      .volume("relative", (m) => m.bind("/srv/x"))
      .build()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(sdk.InvalidConfigError);
  });
});
