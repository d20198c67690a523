import { randomBytes } from "node:crypto";
import { runScript, type SandboxTarget } from "./sandbox-shell.js";
import { upload } from "./transfer.js";

/** A fresh sandbox-side scratch folder name; /tmp is writable in the upstream images and the dev sandbox. */
export function newScratchPath(): string {
  return `/tmp/.msbv-sync-${randomBytes(8).toString("hex")}`;
}

/** Best effort: the sandbox is usually stopped right after, which discards /tmp anyway. */
export async function removeScratch(target: SandboxTarget, scratch: string): Promise<void> {
  await runScript(target, "cleanup", `rm -rf "$1"\n`, [scratch]).catch(() => undefined);
}

/** Uploads a NUL-separated name list (for `xargs -0` / `tar --null -T`). */
export function uploadNames(target: SandboxTarget, step: string, names: readonly string[], remote: string): Promise<{ check: string }> {
  const data = Buffer.concat(names.map((n) => Buffer.from(`${n}\0`, "utf8")));
  return upload(target, step, data, remote);
}
