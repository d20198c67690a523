// Option mapping of the embedded backend, without the runtime.
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { mountKeysOf, parseEnv, parsePort, sameMounts, volumeKeys } from "../../../../src/backend/embedded/build-config.js";
import { embeddedImage } from "../../../../src/backend/embedded/images.js";
import { probeKvm } from "../../../../src/backend/embedded/kvm.js";
import { isBootFailure, mapCreateError } from "../../../../src/backend/embedded/map-error.js";
import { ErrorCodes, InvalidOptionError } from "../../../../src/errors/index.js";
import { tempDir } from "../../../helpers/temp-dir.js";

describe("images", () => {
  it.each([
    ["microsandbox/python", "python:3.12-slim"],
    ["docker.io/microsandbox/python:latest", "python:3.12-slim"],
    ["microsandbox/node", "node:22-slim"],
    ["MICROSANDBOX/NODE:0.1", "node:22-slim"],
    ["python:3.13", "python:3.13"],
    [`ghcr.io/acme/tool@sha256:${"a".repeat(64)}`, `ghcr.io/acme/tool@sha256:${"a".repeat(64)}`],
    // A look-alike is not a legacy name: passed through as the OCI reference it is.
    ["evil/python", "evil/python"],
  ])("%s → %s", (legacy, oci) => expect(embeddedImage(legacy)).toBe(oci));
});

describe("ports and envs", () => {
  it("maps host:guest and single ports", () => {
    expect(parsePort("8080:80")).toEqual([8080, 80]);
    expect(parsePort("3000")).toEqual([3000, 3000]);
  });
  it("refuses a malformed port with the config layer's rule", () => {
    expect(() => parsePort("80:80:80")).toThrow(InvalidOptionError);
    expect(() => parsePort("0")).toThrow(/1-65535/);
  });
  it("splits env at the first = only", () => {
    expect(parseEnv("A=b=c")).toEqual(["A", "b=c"]);
    expect(parseEnv("EMPTY=")).toEqual(["EMPTY", ""]);
    expect(() => parseEnv("NOEQUALS")).toThrow(InvalidOptionError);
  });
});

describe("volume sets (reconnect refuses a changed set)", () => {
  const running = {
    mounts: [
      { type: "Bind", host: "/p/data", guest: "/data", options: { readonly: true } },
      { type: "Bind", host: "/p/ws", guest: "/workspace", options: { readonly: false } },
      { type: "Tmpfs", guest: "/scratch", options: { readonly: false } },
    ],
  };
  it("same binds in another order are the same set; tmpfs mounts are not volumes", () => {
    const wanted = volumeKeys([
      { host: "/p/ws", guest: "/workspace", readonly: false },
      { host: "/p/data", guest: "/data", readonly: true },
    ]);
    expect(sameMounts(mountKeysOf(running), wanted)).toBe(true);
  });
  it("a changed readonly flag, host or an extra volume is a different set", () => {
    const base = [
      { host: "/p/ws", guest: "/workspace", readonly: false },
      { host: "/p/data", guest: "/data", readonly: true },
    ];
    expect(sameMounts(mountKeysOf(running), volumeKeys([base[0]!, { ...base[1]!, readonly: false }]))).toBe(false);
    expect(sameMounts(mountKeysOf(running), volumeKeys([base[0]!, { ...base[1]!, host: "/p/other" }]))).toBe(false);
    expect(sameMounts(mountKeysOf(running), volumeKeys([...base, { host: "/p/x", guest: "/x", readonly: false }]))).toBe(false);
  });
});

describe("create errors", () => {
  it("a boot failure is MSBV_EMBEDDED_UNAVAILABLE with the runtime log and the way out", () => {
    const sdkError = new Error('[BootStart] failed to start "a": sandbox process exited (signal: 6 (SIGABRT)) before agent relay became available');
    expect(isBootFailure(sdkError)).toBe(true);
    const err = mapCreateError("a", "python:3.12-slim", sdkError, "Error creating the Kvm object: Error(2)");
    expect(err.code).toBe(ErrorCodes.EMBEDDED_UNAVAILABLE);
    expect(err.message).toMatch(/KVM refused/);
    expect(err.message).toMatch(/msbv dev-server/);
    expect(err.details).toMatchObject({ reason: "boot-failed", runtimeLog: "Error creating the Kvm object: Error(2)" });
  });
  it("an image that cannot be fetched is a server error naming the image, not 'unavailable'", () => {
    const sdkError = Object.assign(new Error("registry error: connection refused"), { code: "image" });
    const err = mapCreateError("a", "python:3.12-slim", sdkError, undefined);
    expect(err.code).toBe(ErrorCodes.SERVER_ERROR);
    expect(err.message).toMatch(/python:3\.12-slim/);
  });
  it("the runtime's config refusal is an invalid option", () => {
    const sdkError = Object.assign(new Error("guest mount path must be absolute"), { code: "invalidConfig" });
    expect(mapCreateError("a", "alpine", sdkError, undefined).code).toBe(ErrorCodes.INVALID_OPTION);
  });
});

describe("KVM probe", () => {
  it("names a missing device", async () => {
    await using temp = await tempDir("msbv-kvm-");
    const dir = temp.path;
    const verdict = await probeKvm({ platform: "linux", devicePath: path.join(dir, "kvm"), modulesDir: dir });
    expect(verdict).toMatchObject({ usable: false, reason: "kvm-missing" });
    expect(verdict.detail).toMatch(/KVM device/);
  });
  it("a host whose only KVM is kvm_pvm is unusable; with kvm_intel loaded it is usable", async () => {
    await using temp = await tempDir("msbv-kvm-");
    const dir = temp.path;
    const device = path.join(dir, "kvm");
    await writeFile(device, "");
    await mkdir(path.join(dir, "modules", "kvm"), { recursive: true });
    await mkdir(path.join(dir, "modules", "kvm_pvm"));
    expect(await probeKvm({ platform: "linux", devicePath: device, modulesDir: path.join(dir, "modules") })).toMatchObject({
      usable: false,
      reason: "kvm-paravirtual",
    });
    await mkdir(path.join(dir, "modules", "kvm_intel"));
    expect(await probeKvm({ platform: "linux", devicePath: device, modulesDir: path.join(dir, "modules") })).toMatchObject({
      usable: true,
      reason: "ok",
    });
  });
  it("macOS is not probed (Hypervisor.framework)", async () => {
    expect(await probeKvm({ platform: "darwin" })).toMatchObject({ usable: true, reason: "not-linux-kvm" });
  });
});
