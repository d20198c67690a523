import { randomBytes } from "node:crypto";
import { lstat, rm } from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isValidSandboxName } from "../../../names/sandbox-name.js";
import { serverIsRoot } from "../containment/sandbox-identity.js";
import { AttachServer } from "./attach-server.js";
import { removeSlotOwner, sweepDeadSlots, writeSlotOwner } from "./slot-owner.js";
import { SandboxInstance, type PooledSandbox, type RuntimeContext } from "../sandbox-instance.js";
import type { RuntimeSandboxSpec } from "../types.js";

// Pre-started sandboxes (issue 14, docs/dev-server.md#pool). Creating a sandbox costs a launcher,
// bubblewrap and a Node supervisor; under a burst that cost queues on the CPUs. The pool starts
// sandboxes ahead of time, per (image, memory), with nothing of any user in them: no name, no
// volumes, no user environment, the supervisor waiting. A create for a name that has no state yet
// takes one and SandboxInstance.adopt gives it the name's state folders, volumes (by descriptor,
// idmapped, as a cold start), hostname, environment and workdir, then checks its mount table.
// A pooled sandbox is handed out once and never comes back: stopping it ends it like any other.
//
// Rules that keep a pooled sandbox indistinguishable from a cold one:
// - only names without state: a name that ran before has its own root layer and /home, which
//   must be the sandbox's `/` from the first instruction bubblewrap runs (not attachable later);
// - only with the server as root: mounting into a running sandbox takes open_tree/move_mount
//   across mount namespaces, which an ordinary user cannot do (its sandboxes start cold);
// - the same key (image, memory): tmpfs sizes and limits are set at launch.
// Any failure while claiming ends the pooled sandbox and the start goes the cold way, which makes
// every check and verdict of its own.

/** Waiting sandboxes kept per (image, memory) when nothing else is said (dev server `--pool-size`). */
export const DEFAULT_POOL_SIZE = 2;

/** Largest pool size accepted per (image, memory): each waiting sandbox holds processes and memory. */
export const MAX_POOL_SIZE = 256;

/** The one rule for a pool size (dev server option and `--pool-size`): a whole number from 0 to MAX_POOL_SIZE. */
export function isValidPoolSize(size: number): boolean {
  return Number.isInteger(size) && size >= 0 && size <= MAX_POOL_SIZE;
}

const SLOT_PREFIX = ".pool-";

/** Refilling waits for this long without a claim in progress (see WarmPool#quiet)... */
const QUIET_MS = 100;
/** ...but never longer than this before each launch. */
const QUIET_MAX_MS = 2000;

interface Demand {
  image: string;
  memory: number | undefined;
}

export class WarmPool {
  readonly #size: number;
  readonly #context: () => Promise<RuntimeContext>;
  readonly #log: (line: string) => void;
  /** Keys some start asked for; the pool fills only those (a server never asked for node starts none). */
  readonly #demand = new Map<string, Demand>();
  readonly #waiting = new Map<string, PooledSandbox[]>();
  #filling: Promise<void> | undefined;
  #closed = false;
  /** Slots left by a killed server are removed once, before this pool makes its first. */
  #swept = false;
  readonly #attacher = new AttachServer();
  /** Claims in progress, and when the last one ended (see #quiet). */
  #claiming = 0;
  #lastClaimEnd = 0;

  constructor(size: number, context: () => Promise<RuntimeContext>, log: (line: string) => void = () => undefined) {
    this.#size = serverIsRoot() ? Math.max(0, Math.floor(size)) : 0;
    this.#context = context;
    this.#log = log;
  }

  /** Waiting sandboxes the pool keeps per key (0: off, always with the server not root). */
  get size(): number {
    return this.#size;
  }

  /** How many sandboxes wait now, over all keys. */
  get ready(): number {
    let count = 0;
    for (const list of this.#waiting.values()) count += list.length;
    return count;
  }

  /**
   * `spec`'s sandbox made from a waiting one, or undefined when the start must go cold (pool off
   * or empty, the name has state, or the claim failed). Either way the key's pool is topped up.
   */
  async claim(spec: RuntimeSandboxSpec): Promise<SandboxInstance | undefined> {
    if (this.#size === 0 || this.#closed) return undefined;
    const key = keyOf(spec.image, spec.memory);
    if (!this.#demand.has(key)) this.#demand.set(key, { image: spec.image, memory: spec.memory });
    this.#claiming++;
    try {
      const context = await this.#context();
      if (!isValidSandboxName(spec.name) || (await hasState(context.stateDir, spec.name))) return undefined;
      const pooled = this.#waiting.get(key)?.shift();
      if (!pooled) return undefined;
      try {
        return await SandboxInstance.adopt(context, pooled, spec, this.#attacher);
      } catch (error) {
        this.#log(`pool: claiming a waiting sandbox for "${spec.name}" failed, starting it cold: ${(error as Error).message}`);
        // Still a slot when the claim failed before its folder became the name's state.
        await rm(pooled.dirs.root, { recursive: true, force: true });
        return undefined;
      } finally {
        await removeSlotOwner(context.stateDir, pooled.slot);
      }
    } finally {
      this.#claiming--;
      this.#lastClaimEnd = performance.now();
      this.#topUp();
    }
  }

  get wanted(): number {
    return this.#size * this.#demand.size;
  }

  /** Resolves once every key asked for so far has its waiting sandboxes (bench and tests). */
  async filled(): Promise<void> {
    while (this.#filling) await this.#filling;
  }

  /** Ends every waiting sandbox and removes its slot folders; no more are started. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    await this.#filling;
    const all = [...this.#waiting.values()].flat();
    this.#waiting.clear();
    await Promise.allSettled(all.map((pooled) => discard(pooled)));
    this.#attacher.close();
  }

  #topUp(): void {
    if (this.#filling || this.#closed || this.#size === 0) return;
    // One launch at a time: the pool fills in the background without taking every CPU from the
    // starts and runs it exists to speed up.
    this.#filling = this.#fill()
      .catch((error: unknown) => this.#log(`pool: could not start a waiting sandbox: ${(error as Error).message}`))
      .finally(() => {
        this.#filling = undefined;
      });
  }

  /**
   * Waits until no claim has been in progress for QUIET_MS (at most QUIET_MAX_MS), so refilling does
   * not compete with a burst of creates: a launch costs the server's own thread a fork of its process
   * and more (about 5 ms each), the very thread the burst's claims queue on. Bounded, so a steady
   * stream of creates still gets its pool back.
   */
  async #quiet(): Promise<void> {
    const until = performance.now() + QUIET_MAX_MS;
    while (!this.#closed && performance.now() < until && (this.#claiming > 0 || performance.now() - this.#lastClaimEnd < QUIET_MS)) {
      await sleep(QUIET_MS / 2);
    }
  }

  async #fill(): Promise<void> {
    if (!this.#swept) {
      this.#swept = true;
      const swept = await sweepDeadSlots((await this.#context()).stateDir, SLOT_PREFIX);
      if (swept.length > 0) this.#log(`pool: removed ${swept.length} slot(s) left by a server that is no longer running`);
    }
    // Waiting sandboxes are for claims; have the helper that serves them running before the first.
    if (!this.#closed) this.#attacher.prepare();
    for (;;) {
      if (this.#closed) return;
      const next = [...this.#demand.entries()].find(([key]) => (this.#waiting.get(key)?.length ?? 0) < this.#size);
      if (!next) return;
      const [key, demand] = next;
      await this.#quiet();
      if (this.#closed) return;
      const context = await this.#context();
      const slot = `${SLOT_PREFIX}${randomBytes(6).toString("hex")}`;
      await writeSlotOwner(context.stateDir, slot);
      const pooled = await SandboxInstance.launchPooled(context, slot, demand.image, demand.memory).catch(async (error: unknown) => {
        await rm(path.join(context.stateDir, slot), { recursive: true, force: true });
        await removeSlotOwner(context.stateDir, slot);
        throw error;
      });
      if (this.#closed) {
        await discard(pooled);
        return;
      }
      const list = this.#waiting.get(key) ?? [];
      list.push(pooled);
      this.#waiting.set(key, list);
      // A waiting sandbox that ends on its own (killed from the host) leaves the pool.
      pooled.connection.onClose(() => {
        const index = list.indexOf(pooled);
        if (index >= 0) {
          list.splice(index, 1);
          void discard(pooled);
        }
      });
    }
  }
}

function keyOf(image: string, memory: number | undefined): string {
  return `${image}\u0000${memory ?? ""}`;
}

async function hasState(stateDir: string, name: string): Promise<boolean> {
  try {
    await lstat(path.join(stateDir, name));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** Ends a waiting sandbox that was never handed out and deletes its slot: nothing of it is anyone's. */
async function discard(pooled: PooledSandbox): Promise<void> {
  await pooled.connection.terminate();
  await pooled.release();
  await rm(pooled.dirs.root, { recursive: true, force: true });
  await removeSlotOwner(path.dirname(pooled.dirs.root), pooled.slot);
}
