import { open } from "node:fs/promises";
import { homedir } from "node:os";
import * as path from "node:path";

/** The runtime's state folder: `$MSB_HOME`, default `~/.microsandbox` (as the SDK resolves it). */
export function msbHome(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.MSB_HOME;
  return value !== undefined && value !== "" ? value : path.join(homedir(), ".microsandbox");
}

const TAIL_BYTES = 4096;

/**
 * The tail of a sandbox's runtime log (`sandboxes/<name>/logs/runtime.log`), which holds the
 * real reason of a failed boot ("Error creating the Kvm object…"); the SDK only says
 * `[BootStart] … exited (signal: 6)`. Read before the failed record is removed.
 */
export async function runtimeLogTail(name: string, home: string = msbHome()): Promise<string | undefined> {
  const file = path.join(home, "sandboxes", name, "logs", "runtime.log");
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString("utf8").trim();
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
