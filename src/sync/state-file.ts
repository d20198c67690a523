import * as z from "zod";
import { ErrorCodes } from "../errors/codes.js";
import { SyncError } from "../errors/errors.js";
import { MsbvError } from "../errors/msbv-error.js";
import { isValidSandboxName, SANDBOX_NAME_RULE } from "../names/sandbox-name.js";
import { Workspace } from "../workspace/index.js";
import { emptyReport } from "./report.js";
import { newScratchPath } from "./scratch.js";
import type { SyncSession, VolumeState } from "./types.js";

// The last state both sides agreed on is kept on the host, so that a later process (a new session on
// the same sandbox name, `msbv`, a crash) can tell sandbox-side changes that were never synced back
// from stale copies, and can still sync them back. Written through a Workspace rooted at the project
// folder (atomic temp + rename, no symlink followed).

const fileSchema = z.object({
  version: z.literal(1),
  sandbox: z.string(),
  volumes: z.array(
    z.object({
      host: z.string(),
      guest: z.string(),
      files: z.record(z.string(), z.tuple([z.string().regex(/^[0-9a-f]{64}$/), z.number().int().nonnegative()])),
      dirs: z.array(z.string()),
    }),
  ),
});

/** `.microsandbox/sync/<name>.json` relative to the project folder. */
export function syncStatePath(sandboxName: string): string {
  if (!isValidSandboxName(sandboxName)) {
    throw new SyncError(ErrorCodes.SYNC_FAILED, `sandbox name ${JSON.stringify(sandboxName)} cannot name a sync state file`, {
      hint: `use ${SANDBOX_NAME_RULE} in sandbox names`,
    });
  }
  return `.microsandbox/sync/${sandboxName}.json`;
}

export async function saveSyncState(projectDir: string, session: SyncSession): Promise<void> {
  const doc = {
    version: 1,
    sandbox: session.sandboxName,
    volumes: session.volumes.map(({ volume, state }) => ({
      host: volume.host,
      guest: volume.guest,
      files: Object.fromEntries([...state.files].map(([p, e]) => [p, [e.sha256, e.size]])),
      dirs: [...state.dirs].sort(),
    })),
  };
  const ws = await Workspace.open(projectDir);
  await ws.write(syncStatePath(session.sandboxName), `${JSON.stringify(doc, null, 1)}\n`, { createParents: true });
}

/**
 * The session last recorded for `sandboxName` under `projectDir`, or undefined when there is none.
 * Hand it to `syncBack` to bring home changes of a sandbox whose starting session is gone.
 */
export async function loadSyncSession(projectDir: string, sandboxName: string): Promise<SyncSession | undefined> {
  const rel = syncStatePath(sandboxName);
  let text: string;
  try {
    text = await (await Workspace.open(projectDir)).readText(rel);
  } catch (err) {
    if (err instanceof MsbvError && err.code === ErrorCodes.WORKSPACE_NOT_FOUND) return undefined;
    throw err;
  }
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new SyncError(ErrorCodes.SYNC_FAILED, `the sync state file ${projectDir}/${rel} is damaged`, {
      cause: err,
      hint: "delete it; the next copy-in then treats every differing file in the sandbox as not synced back",
    });
  }
  const volumes = parsed.volumes.map((v) => {
    const state: VolumeState = {
      files: new Map(Object.entries(v.files).map(([p, [sha256, size]]) => [p, { sha256, size }])),
      dirs: new Set(v.dirs),
    };
    return { volume: { host: v.host, guest: v.guest }, state };
  });
  return { sandboxName: parsed.sandbox, scratch: newScratchPath(), volumes, inReport: emptyReport(), stateDir: projectDir };
}
