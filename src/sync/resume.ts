import type { CallOptions, SandboxBackend } from "../backend/backend.js";
import { loadSyncSession } from "./state-file.js";
import { syncIn } from "./sync-in.js";
import type { SyncOptions, SyncSession, SyncVolume } from "./types.js";

/** Whether the server reports `name` as running; any failure (unknown name → 500 on the legacy server) means no. */
export async function isSandboxRunning(backend: SandboxBackend, name: string, options?: CallOptions): Promise<boolean> {
  const rows = await backend.metrics(name, options).catch(() => []);
  return rows.some((r) => r.name === name && r.running);
}

/**
 * The client's sync start: a sandbox that was already running (started by another session or `msbv up`)
 * keeps its files, and the session recorded under `stateDir` for the same volumes is resumed, so this
 * session's stop() syncs its work back. Otherwise a normal {@link syncIn}.
 */
export async function syncInOrResume(
  backend: SandboxBackend,
  sandboxName: string,
  volumes: readonly SyncVolume[],
  options: SyncOptions & { stateDir: string; wasRunning: boolean },
): Promise<SyncSession> {
  const { wasRunning, ...syncOptions } = options;
  if (wasRunning) {
    const recorded = await loadSyncSession(options.stateDir, sandboxName);
    const key = (v: SyncVolume) => `${v.host}\0${v.guest}`;
    const want = volumes.map(key).sort().join("\n");
    if (
      recorded &&
      recorded.volumes
        .map((v) => key(v.volume))
        .sort()
        .join("\n") === want
    )
      return recorded;
  }
  return syncIn(backend, sandboxName, volumes, syncOptions);
}
