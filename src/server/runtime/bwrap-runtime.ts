import * as path from "node:path";
import { DevServerError, ErrorCodes, SandboxStateError } from "../../errors/index.js";
import { DEFAULT_POOL_SIZE, WarmPool } from "./pool/warm-pool.js";
import { createRuntimeContext } from "./runtime-context.js";
import { SandboxInstance, type RuntimeContext } from "./sandbox-instance.js";
import type { ChildHandlers, RawChildRef, SpawnOptions } from "./supervisor-connection.js";
import type { RuntimeMetrics, RuntimeOutputLine, RuntimePool, RuntimeSandboxSpec, SandboxRuntime } from "./types.js";

/** Options of {@link createBwrapRuntime}. */
export interface BwrapRuntimeOptions {
  /** Folder for per-sandbox writable areas; created if missing. Must never be mounted into a sandbox. */
  stateDir: string;
  /** bubblewrap binary. Default: found with {@link findBwrap}. */
  bwrapPath?: string;
  /** Sandboxes share the host's network namespace (`--share-net`). Default false: no network at all. */
  allowNetwork?: boolean;
  /**
   * Pre-started sandboxes kept per (image, memory), see pool/warm-pool.ts. Default
   * {@link DEFAULT_POOL_SIZE}; 0 turns the pool off. Only with the server as root.
   */
  poolSize?: number;
  /** Where the pool reports a claim it had to give up (the start then goes cold). */
  log?: (line: string) => void;
}

/**
 * A {@link SandboxRuntime} that runs each sandbox as a bubblewrap process tree on this host.
 * @example
 * const runtime = createBwrapRuntime({ stateDir: "/tmp/msbv-state" });
 * await runtime.start({ name: "sb1", image: "microsandbox/python", volumes: [], envs: [] });
 * await runtime.runRepl("sb1", "python", "print(1+1)"); // [{ stream: "stdout", text: "2" }]
 * await runtime.shutdown();
 */
export function createBwrapRuntime(options: BwrapRuntimeOptions): SandboxRuntime {
  return new BwrapRuntime(options);
}

class BwrapRuntime implements SandboxRuntime {
  readonly #options: BwrapRuntimeOptions;
  readonly #instances = new Map<string, SandboxInstance>();
  readonly #starting = new Map<string, Promise<void>>();
  readonly #stopping = new Map<string, Promise<void>>();
  #context: Promise<RuntimeContext> | undefined;
  readonly #pool: WarmPool;

  constructor(options: BwrapRuntimeOptions) {
    this.#options = { ...options, stateDir: path.resolve(options.stateDir) };
    this.#pool = new WarmPool(options.poolSize ?? DEFAULT_POOL_SIZE, () => this.#getContext(), options.log);
  }

  /** The pre-started sandbox pool (its size, how many wait, and a way to wait until it is full). */
  get pool(): RuntimePool {
    return this.#pool;
  }

  async start(spec: RuntimeSandboxSpec): Promise<void> {
    const { name } = spec;
    await this.#stopping.get(name);
    if (this.#instances.get(name)?.running) return;
    const pending = this.#starting.get(name);
    if (pending) return pending;
    const starting = (async () => {
      const instance = (await this.#pool.claim(spec)) ?? (await SandboxInstance.start(await this.#getContext(), spec));
      this.#instances.set(name, instance);
      // A sandbox can also end on its own (its main process killed from inside).
      instance.onClose(() => {
        if (this.#instances.get(name) === instance) this.#instances.delete(name);
      });
    })();
    this.#starting.set(name, starting);
    try {
      await starting;
    } finally {
      this.#starting.delete(name);
    }
  }

  async stop(name: string): Promise<void> {
    await this.#starting.get(name)?.catch(() => undefined);
    const ongoing = this.#stopping.get(name);
    if (ongoing) return ongoing;
    const instance = this.#instances.get(name);
    if (!instance) return;
    this.#instances.delete(name);
    const stopping = instance.stop().finally(() => this.#stopping.delete(name));
    this.#stopping.set(name, stopping);
    return stopping;
  }

  async replacedVolumes(name: string): Promise<string[]> {
    const instance = this.#instances.get(name);
    return instance?.running ? instance.replacedVolumes() : [];
  }

  isRunning(name: string): boolean {
    return this.#instances.get(name)?.running ?? false;
  }

  runRepl(name: string, language: "python" | "node", code: string, timeoutSeconds?: number, hungUp?: AbortSignal): Promise<RuntimeOutputLine[]> {
    if (language !== "python" && language !== "node") {
      return Promise.reject(
        new DevServerError(`Unsupported REPL language "${String(language)}" for sandbox "${name}".`, { hint: 'use "python" or "node"' }),
      );
    }
    return this.#running(name).then((instance) => instance.runRepl(language, code, timeoutSeconds, hungUp));
  }

  runCommand(
    name: string,
    command: string,
    args: string[],
    timeoutSeconds?: number,
    hungUp?: AbortSignal,
  ): Promise<{ exitCode: number; output: RuntimeOutputLine[] }> {
    return this.#running(name).then((instance) => instance.runCommand(command, args, timeoutSeconds, hungUp));
  }

  spawnRaw(name: string, argv: string[], handlers: ChildHandlers, options?: SpawnOptions): Promise<RawChildRef> {
    return this.#running(name).then((instance) => instance.spawnRaw(argv, handlers, options));
  }

  async metrics(name: string): Promise<RuntimeMetrics> {
    const instance = this.#instances.get(name);
    if (!instance?.running) return { running: false, cpuPercent: null, memoryMiB: null, diskBytes: null };
    return instance.metrics();
  }

  async shutdown(): Promise<void> {
    await this.#pool.shutdown();
    await Promise.allSettled([...this.#starting.values()]);
    const names = new Set([...this.#instances.keys(), ...this.#stopping.keys()]);
    const results = await Promise.allSettled([...names].map((name) => this.stop(name)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) throw failed.reason;
  }

  async #running(name: string): Promise<SandboxInstance> {
    await this.#starting.get(name)?.catch(() => undefined);
    const instance = this.#instances.get(name);
    if (instance?.running) return instance;
    throw new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${name}" is not running on this dev server.`, {
      hint: "start it first (sandbox.start)",
      details: { sandbox: name },
    });
  }

  #getContext(): Promise<RuntimeContext> {
    this.#context ??= createRuntimeContext(this.#options).catch((error: unknown) => {
      this.#context = undefined; // let a later start retry, e.g. after bubblewrap got installed
      throw error;
    });
    return this.#context;
  }
}
