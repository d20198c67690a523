import { randomBytes } from "node:crypto";
import { PRELUDE, runScript, type SandboxTarget } from "./sandbox-shell.js";
import { upload } from "./transfer.js";

/** A fresh sandbox-side scratch folder name; /tmp is writable in the upstream images and the dev sandbox. */
export function newScratchPath(): string {
  return `/tmp/.msbv-sync-${randomBytes(8).toString("hex")}`;
}

/**
 * The scratch folder of a sync-back and whether it may exist in the sandbox now: a listing makes it,
 * a single-file fetch removes it once the listing was read (one command less), a later step that
 * needs it again makes it again, and the end of the sync-back removes what is left.
 */
export interface ScratchState {
  readonly path: string;
  present: boolean;
}

/** Makes the folder again when a step removed it (private, as the listing makes it). */
export async function ensureScratch(target: SandboxTarget, scratch: ScratchState): Promise<void> {
  if (scratch.present) return;
  await runScript(target, "setup", `${PRELUDE}mkdir -p -m 700 "$1"\n`, [scratch.path]);
  scratch.present = true;
}

/** Best effort: the sandbox is usually stopped right after, which discards /tmp anyway. */
export async function removeScratch(target: SandboxTarget, scratch: ScratchState): Promise<void> {
  if (!scratch.present) return;
  try {
    await runScript(target, "cleanup", `rm -rf "$1"\n`, [scratch.path]);
    scratch.present = false;
  } catch {
    // Left behind: discarded with the sandbox's /tmp.
  }
}

/** Uploads a NUL-separated name list (for `xargs -0` / `tar --null -T`). */
export function uploadNames(target: SandboxTarget, step: string, names: readonly string[], remote: string): Promise<{ check: string }> {
  const data = Buffer.concat(names.map((n) => Buffer.from(`${n}\0`, "utf8")));
  return upload(target, step, data, remote);
}
