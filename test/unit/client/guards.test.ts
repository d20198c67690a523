import { describe, expect, it } from "vitest";
import type { SandboxBackend } from "../../../src/backend/backend.js";
import type { WireMetricsRow } from "../../../src/backend/wire.js";
import { guardVolumeChange, sameVolumes } from "../../../src/client/guards.js";
import type { ResolvedSandboxConfig } from "../../../src/config/types.js";
import { ErrorCodes } from "../../../src/errors/codes.js";
import { SandboxStateError, ServerError } from "../../../src/errors/errors.js";

const vol = (host: string, guest: string) => ({ host, guest, readonly: false });

function sandbox(volumes: ReturnType<typeof vol>[]): ResolvedSandboxConfig {
  return { name: "sb1", image: "microsandbox/python", memory: 512, cpus: 1, volumes, ports: [], envs: [], dependsOn: [] };
}

function metricsBackend(metrics: () => Promise<WireMetricsRow[]>): SandboxBackend & { calls: number } {
  const b = {
    calls: 0,
    capabilities: async () => ({ readonlyVolumes: false, localHostPaths: true }),
    start: async () => "",
    stop: async () => "",
    runCode: async () => ({ language: "python", output: [], status: "success" }),
    runCommand: async () => ({ command: "", args: [], exit_code: 0, output: [], success: true }),
    metrics: async () => {
      b.calls++;
      return metrics();
    },
  };
  return b;
}

describe("guardVolumeChange", () => {
  it("same set (any order) → no server call", async () => {
    const b = metricsBackend(async () => []);
    expect(sameVolumes([vol("/a", "/x"), vol("/b", "/y")], [vol("/b", "/y"), vol("/a", "/x")])).toBe(true);
    await guardVolumeChange(b, sandbox([vol("/a", "/x"), vol("/b", "/y")]), sandbox([vol("/b", "/y"), vol("/a", "/x")]), undefined);
    await guardVolumeChange(b, undefined, sandbox([vol("/a", "/x")]), undefined);
    expect(b.calls).toBe(0);
  });

  it("changed set while running → VOLUME_CONFLICT telling to stop first", async () => {
    const b = metricsBackend(async () => [{ name: "sb1", running: true, cpu_usage: 0, memory_usage: 1, disk_usage: 1 }]);
    const p = guardVolumeChange(b, sandbox([vol("/a", "/x")]), sandbox([vol("/c", "/x")]), undefined);
    await expect(p).rejects.toBeInstanceOf(SandboxStateError);
    await expect(p).rejects.toMatchObject({ code: ErrorCodes.VOLUME_CONFLICT, message: expect.stringContaining("stop it first") });
  });

  it("changed set but not running → proceeds", async () => {
    const b = metricsBackend(async () => [{ name: "sb1", running: false, cpu_usage: null, memory_usage: null, disk_usage: null }]);
    await expect(guardVolumeChange(b, sandbox([vol("/a", "/x")]), sandbox([]), undefined)).resolves.toBeUndefined();
    expect(b.calls).toBe(1);
  });

  it("server does not know the name (500) → proceeds; unreachable server → rethrows", async () => {
    const unknown = metricsBackend(async () => {
      throw new ServerError(ErrorCodes.SERVER_ERROR, "HTTP 500", 500);
    });
    await expect(guardVolumeChange(unknown, sandbox([vol("/a", "/x")]), sandbox([]), undefined)).resolves.toBeUndefined();
    const down = metricsBackend(async () => {
      throw new ServerError(ErrorCodes.CONNECTION_FAILED, "refused");
    });
    await expect(guardVolumeChange(down, sandbox([vol("/a", "/x")]), sandbox([]), undefined)).rejects.toMatchObject({
      code: ErrorCodes.CONNECTION_FAILED,
    });
  });
});
