import type { CallOptions, SandboxBackend } from "../backend/backend.js";
import { ErrorCodes } from "../errors/codes.js";
import { InvalidOptionError, SandboxStateError } from "../errors/errors.js";
import { MsbvError } from "../errors/msbv-error.js";
import { Command } from "./command.js";
import { randomSandboxName, resolveServer } from "../config/index.js";
import { loadDotEnvIfNeeded } from "./env.js";
import { Execution } from "./execution.js";
import { retryFirstCall } from "./first-call-retry.js";
import { registerInternals, type SandboxInternals } from "./internals.js";
import { Metrics } from "./metrics.js";
import type { SandboxOptions } from "./sandbox-options.js";
import { serverSeconds } from "./seconds.js";
import { startSandbox } from "./start-pipeline.js";
import { syncBack, type SyncSession } from "../sync/index.js";

/** Options of `run(code, options)`: upstream's `timeout` (seconds, server-side) plus call controls. */
export interface RunOptions extends CallOptions {
  /** Seconds the server lets the code run (REPL timeout). */
  timeout?: number;
}

/** Upstream's text; code in the wild matches on it. */
const NOT_STARTED = "Sandbox is not started. Call start() first.";

/**
 * Base of {@link PythonSandbox} and {@link NodeSandbox}, same surface as the upstream JS SDK.
 * `start()` runs the full config pipeline (microsandbox.toml + env + options, validated volumes).
 * Supports `await using` (stops the sandbox on scope exit).
 */
export abstract class BaseSandbox implements AsyncDisposable {
  /** The options as given (plus the sandbox name, which is its identity); resolved only by start(). */
  readonly #options: SandboxOptions;
  #name: string;
  /** Set by start(): the resolved server (URL and key). */
  #server: { url: string; apiKey: string | undefined } | undefined;
  #backend: SandboxBackend | undefined;
  #sync: SyncSession | undefined;
  #isStarted = false;
  #firstCallPending = false;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #internals: SandboxInternals;

  constructor(options: SandboxOptions = {}) {
    loadDotEnvIfNeeded();
    this.#options = { ...options };
    // The name is the sandbox's identity from construction on (upstream): the one generator picks it.
    this.#name = options.name ?? randomSandboxName();
    this.#internals = {
      requireStarted: () => {
        if (!this.#isStarted || !this.#backend) {
          throw new SandboxStateError(ErrorCodes.NOT_STARTED, NOT_STARTED, { details: { name: this.#name } });
        }
        return { backend: this.#backend, name: this.#name };
      },
      firstCall: async (fn, callOptions) => {
        const first = this.#firstCallPending;
        this.#firstCallPending = false;
        try {
          return await (first ? retryFirstCall(fn, callOptions?.signal ? { signal: callOptions.signal } : {}) : fn());
        } catch (err) {
          // The server says the sandbox is gone (another client or `msbv stop` stopped it): this
          // object is no longer started, so `isStarted` is false and start() starts it again.
          if (err instanceof MsbvError && err.code === ErrorCodes.NOT_STARTED) this.#isStarted = false;
          throw err;
        }
      },
    };
    registerInternals(this, this.#internals);
  }

  /** Subclasses provide `create`; upstream throws the same text here. */
  static async create(_options?: SandboxOptions): Promise<BaseSandbox> {
    throw new InvalidOptionError("Static method 'create' must be implemented by subclass", {
      hint: "use PythonSandbox.create() or NodeSandbox.create()",
    });
  }

  /** Constructs-then-starts, shared by the subclasses' `create`. */
  // `options` are the ones the sandbox was constructed with; start() reads them from there.
  protected static async startNew<T extends BaseSandbox>(sandbox: T, _options?: SandboxOptions): Promise<T> {
    await sandbox.start();
    return sandbox;
  }

  /**
   * Which config kind (default image) this class stands for. Not abstract, so subclasses written
   * against the upstream BaseSandbox (which has no such member) still compile.
   */
  protected get sandboxKind(): "python" | "node" {
    return "python";
  }

  /** The image used when neither options nor microsandbox.toml name one. */
  abstract getDefaultImage(): Promise<string>;

  /** Runs code in the sandbox's persistent REPL. */
  abstract run(code: string, options?: RunOptions): Promise<Execution>;

  /**
   * Starts the sandbox (no-op when started). Arguments left undefined fall back to the
   * constructor options, then `MSB_*` env and microsandbox.toml, then the upstream defaults
   * (image by class, memory 512 MiB, 1 CPU, timeout 180 s). Nothing is written or sent when
   * validation fails.
   * @param timeout seconds the server may take; the HTTP call gets 30 s more (or `options.timeoutMs`).
   */
  async start(image?: string, memory?: number, cpus?: number, timeout?: number, options?: CallOptions): Promise<void> {
    if (this.#isStarted) return;
    if (this.#starting) return this.#starting;
    // Upstream's positional arguments are call options like any other; undefined ones leave the
    // constructor's in place. Resolution (file, env, defaults) happens once, in startSandbox.
    const given = { image, memory, cpus, timeout, signal: options?.signal, timeoutMs: options?.timeoutMs };
    const overrides = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<SandboxOptions>;
    const raw: SandboxOptions = { ...this.#options, name: this.#name, ...overrides };
    this.#starting = (async () => {
      const started = await startSandbox({ kind: this.sandboxKind, defaultImage: await this.getDefaultImage(), options: raw });
      this.#backend = started.backend;
      this.#name = started.sandbox.name;
      this.#server = { url: started.serverUrl, apiKey: started.apiKey };
      this.#sync = started.sync;
      this.#isStarted = true;
      this.#firstCallPending = true;
    })();
    try {
      await this.#starting;
    } finally {
      this.#starting = undefined;
    }
  }

  /**
   * Stops the sandbox. Idempotent: a no-op when not started; concurrent calls share one request.
   * In sync mode the sandbox's changes are copied back first; the sandbox is stopped even when that
   * fails, and the SyncError (conflicts: MSBV_SYNC_CONFLICT, failures: MSBV_SYNC_FAILED) is thrown after.
   */
  async stop(options?: CallOptions): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (!this.#isStarted || !this.#backend) return;
    const backend = this.#backend;
    this.#stopping = (async () => {
      const syncError = this.#sync
        ? await syncBack(backend, this.#sync, options).then(
            () => undefined,
            (e: unknown) => e,
          )
        : undefined;
      try {
        await backend.stop(this.#name, options);
      } catch (err) {
        // Still started: a retried stop() syncs back again, then stops.
        if (syncError instanceof MsbvError) syncError.details.stopError = err instanceof Error ? err.message.split("\n")[0] : String(err);
        throw syncError ?? err;
      }
      this.#isStarted = false;
      this.#firstCallPending = false;
      this.#sync = undefined;
      if (syncError !== undefined) throw syncError;
    })();
    try {
      await this.#stopping;
    } finally {
      this.#stopping = undefined;
    }
  }

  /** `await using sb = await PythonSandbox.create()` stops the sandbox on scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Shared by the subclasses' `run`: sends `sandbox.repl.run` in `language`. */
  protected async runInLanguage(language: string, code: string, options: RunOptions = {}): Promise<Execution> {
    const internals = this.#internals;
    const { backend, name } = internals.requireStarted();
    const seconds = serverSeconds(options.timeout, "timeout", options.timeoutMs);
    const call: CallOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    };
    const result = await internals.firstCall(() => backend.runCode(name, language, code, seconds, call), call);
    return new Execution(result);
  }

  /** A new {@link Command} on each access (upstream behaviour). */
  get command(): Command {
    return new Command(this);
  }

  /** A new {@link Metrics} on each access (upstream behaviour). */
  get metrics(): Metrics {
    return new Metrics(this);
  }

  get isStarted(): boolean {
    return this.#isStarted;
  }

  /** The server URL; after start() the resolved one (option > MSB_SERVER_URL > microsandbox.toml > default). */
  get serverUrl(): string {
    return this.#server?.url ?? this.#peekServer().url;
  }

  get name(): string {
    return this.#name;
  }

  /** The API key in use, if any. Never appears in error messages. */
  get apiKey(): string | undefined {
    return this.#server ? this.#server.apiKey : this.#peekServer().apiKey;
  }

  /** Before start(): the same resolution rule (options > env), without the config file (read by start). */
  #peekServer(): { url: string; apiKey: string | undefined } {
    try {
      const { serverUrl, apiKey } = this.#options;
      // An empty value means "not given", as in the call-option checks (upstream uses `||`).
      const server = resolveServer({ ...(serverUrl ? { serverUrl } : {}), ...(apiKey ? { apiKey } : {}) }, process.env, undefined);
      return { url: server.url, apiKey: server.apiKey };
    } catch {
      // An invalid URL is reported by start(); a getter does not throw.
      return { url: this.#options.serverUrl ?? "", apiKey: this.#options.apiKey };
    }
  }
}
