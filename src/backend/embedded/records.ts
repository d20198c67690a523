import type { SandboxHandle } from "microsandbox-embedded";
import type { WireMetricsRow } from "../wire.js";
import { messageOf } from "./map-error.js";
import type { EmbeddedSdk } from "./sdk.js";

// The runtime's sandbox records (its SQLite database under $MSB_HOME), as the backend reads and clears them.

export async function metricsRow(handle: SandboxHandle): Promise<WireMetricsRow> {
  const idle = { name: handle.name, running: false, cpu_usage: null, memory_usage: null, disk_usage: null };
  if (handle.status !== "running") return idle;
  try {
    const m = await handle.metrics();
    // Legacy units: CPU percent, memory in whole MiB, disk in bytes (the VM's writable layer).
    return {
      name: handle.name,
      running: true,
      cpu_usage: m.cpuPercent,
      memory_usage: Math.round(m.memoryBytes / 1024 / 1024),
      disk_usage: m.upperUsedBytes,
    };
  } catch {
    // Stopped between the status read and the metrics call.
    return idle;
  }
}

export async function findHandle(sdk: EmbeddedSdk, name: string): Promise<SandboxHandle | undefined> {
  try {
    return await sdk.Sandbox.get(name);
  } catch (err) {
    if ((err as { code?: unknown }).code === "sandboxNotFound" || /not found/i.test(messageOf(err))) return undefined;
    throw err;
  }
}

/** Kills and removes a record if one exists; never throws (cleanup must not mask the real error). */
export async function removeRecord(sdk: EmbeddedSdk, name: string): Promise<void> {
  const handle = await findHandle(sdk, name).catch(() => undefined);
  if (!handle) return;
  if (handle.status === "running" || handle.status === "starting" || handle.status === "draining" || handle.status === "paused") {
    await handle.kill().catch(() => undefined);
  }
  await sdk.Sandbox.remove(name).catch(() => undefined);
}
