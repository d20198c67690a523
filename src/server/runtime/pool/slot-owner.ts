import { readFileSync, readlinkSync, unlinkSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { parseStat } from "../proc-tree.js";

// A pool slot's owner, so that a server can remove the slots a killed server left behind
// (docs/dev-server.md#pool). `<state>/<slot>.owner` names the server that made `<state>/<slot>`:
// its PID namespace, pid and start time (a pid alone may be reused). It is written before the slot
// folder is made and removed after the folder is gone or has become a name's state, so a slot
// folder always has its owner file while it is a slot. A slot is swept only when its owner file
// says, in this server's own PID namespace, that its server is no longer running; a slot without
// one (made before owner files existed) or from another PID namespace (a server in another
// container sharing the folder) is left alone, because nothing says whose it is.

const OWNER_SUFFIX = ".owner";

/** This process, as an owner file states it. */
function selfOwner(): string {
  const stat = parseStat(readFileSync("/proc/self/stat", "utf8"));
  return `${pidNamespace("self")} ${process.pid} ${stat?.startTime ?? 0}`;
}

function pidNamespace(pid: number | "self"): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return "?";
  }
}

/** Records this server as the owner of `slot`; call before making the slot's folder. */
export async function writeSlotOwner(stateDir: string, slot: string): Promise<void> {
  await writeFile(path.join(stateDir, `${slot}${OWNER_SUFFIX}`), `${selfOwner()}\n`, { flag: "wx", mode: 0o600 });
}

/** Forgets `slot`'s owner; call once its folder is gone or renamed to a name's state. */
export async function removeSlotOwner(stateDir: string, slot: string): Promise<void> {
  // One synchronous unlink: through libuv's thread pool (and rm's stat before it) each claim of a
  // burst handed the server's thread to a woken pool thread (open-host-dir.ts).
  try {
    unlinkSync(path.join(stateDir, `${slot}${OWNER_SUFFIX}`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** False only when the owner file proves its server gone: same PID namespace, and that pid is not that process. */
function ownerGone(owner: string): boolean {
  const [namespace, pidText, startText] = owner.trim().split(" ");
  const pid = Number(pidText);
  if (namespace !== pidNamespace("self") || !Number.isSafeInteger(pid) || pid <= 0) return false;
  let running: ReturnType<typeof parseStat>;
  try {
    running = parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
  return running === undefined || String(running.startTime) !== startText || running.state === "Z";
}

/**
 * Removes the slots (folder and owner file) under `stateDir` whose server is gone; returns their names.
 * `prefix` is what every slot name starts with. Nothing runs in such a slot any more: a waiting
 * sandbox dies with its server (parent-death signal). The removal never follows a symlink.
 */
export async function sweepDeadSlots(stateDir: string, prefix: string): Promise<string[]> {
  const entries = await readdir(stateDir, { withFileTypes: true }).catch(() => []);
  const swept: string[] = [];
  for (const entry of entries) {
    if (!entry.name.startsWith(prefix) || !entry.name.endsWith(OWNER_SUFFIX) || !entry.isFile()) continue;
    const slot = entry.name.slice(0, -OWNER_SUFFIX.length);
    const owner = await readFile(path.join(stateDir, entry.name), "utf8").catch(() => undefined);
    if (owner === undefined || !ownerGone(owner)) continue;
    await rm(path.join(stateDir, slot), { recursive: true, force: true });
    await removeSlotOwner(stateDir, slot);
    swept.push(slot);
  }
  return swept;
}
