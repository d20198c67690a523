import type { ExecHandle, Sandbox, SandboxHandle } from "microsandbox-embedded";
import { ErrorCodes, InvalidOptionError, MsbvError, SandboxStateError, ServerError } from "../../errors/index.js";
import { driverArgv, LANGUAGES } from "../../server/runtime/driver-argv.js";
import { ReplSession } from "../../server/runtime/repl-session.js";
import { SerialQueue } from "../../server/runtime/serial-queue.js";
import type { BackendCapabilities, CallOptions, SandboxBackend, StartCallOptions } from "../backend.js";
import { composeCallSignal, type CallSignal } from "../call-signal.js";
import { DEFAULT_START_TIMEOUT_S } from "../rpc-backend.js";
import type { SandboxSpec } from "../sandbox-spec.js";
import type { WireCommandResult, WireMetricsRow, WireReplResult } from "../wire.js";
import { checkAborted, raceAbort } from "./abort.js";
import { applyConfig, MANAGED_LABEL, mountKeysOf, sameMounts, volumeKeys } from "./build-config.js";
import { collectCommand, type ExecStream } from "./exec-stream.js";
import { probeKvm } from "./kvm.js";
import { isBootFailure, mapCreateError, messageOf } from "./map-error.js";
import { ExecReplHost } from "./repl-host.js";
import { findHandle, metricsRow, removeRecord } from "./records.js";
import { msbHome, runtimeLogTail } from "./runtime-log.js";
import { loadEmbeddedSdk, type EmbeddedSdk } from "./sdk.js";
import { unavailableFromVerdict, type KvmVerdict } from "./unavailable.js";

export interface EmbeddedBackendOptions {
  /**
   * Config of a `depends_on` sandbox (from microsandbox.toml), started first. Without it a
   * dependency must already be running.
   */
  resolveDependency?: (name: string) => Promise<SandboxSpec>;
  /** Test seams: the KVM probe and the SDK loader. */
  probeKvm?: () => Promise<KvmVerdict>;
  loadSdk?: () => Promise<EmbeddedSdk>;
}

/** Record states whose VM is gone: the record may be replaced by a fresh create. */
const ENDED = new Set(["stopped", "crashed", "created"]);

/** Bind mounts: the runtime enforces read-only ones; host paths are this machine's (no server in between). */
const CAPABILITIES: BackendCapabilities = Object.freeze({ readonlyVolumes: true, localHostPaths: true });

/** How long a graceful VM stop may take before the VM is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** One sandbox this process is attached to: its SDK handle, its REPL drivers, runs in order. */
class Attached {
  readonly sandbox: Sandbox;
  readonly host: ExecReplHost;
  readonly queue = new SerialQueue();
  readonly #repls = new Map<"python" | "node", ReplSession>();

  constructor(sandbox: Sandbox) {
    this.sandbox = sandbox;
    this.host = new ExecReplHost(async (command, args) => streamOf(await sandbox.execStreamWith(command, (b) => b.args(args).stdinPipe()), true));
  }

  repl(language: "python" | "node"): ReplSession {
    let session = this.#repls.get(language);
    if (!session) {
      // The images' own interpreters, found on the VM's PATH.
      session = new ReplSession(this.host, language, driverArgv(language, language === "python" ? "python3" : "node"));
      this.#repls.set(language, session);
    }
    return session;
  }
}

async function streamOf(handle: ExecHandle, stdin: boolean): Promise<ExecStream> {
  const sink = stdin ? await handle.takeStdin() : null;
  return {
    recv: () => handle.recv(),
    write: async (text) => {
      if (!sink) throw new Error("this process has no stdin pipe");
      await sink.write(text);
    },
    signal: (signal) => handle.signal(signal),
    kill: () => handle.kill(),
  };
}

/**
 * The legacy API on real microVMs through the embedded `microsandbox` 0.6 runtime (a native
 * addon, no server). Volumes are bind mounts whose read-only flag the runtime enforces; run()
 * state lives in the dev server's REPL drivers running inside the VM. Input validation and the
 * host-path policy happen before this class is reached (src/config, src/volumes).
 */
export class EmbeddedBackend implements SandboxBackend {
  readonly #options: EmbeddedBackendOptions;
  readonly #attached = new Map<string, Attached>();
  readonly #locks = new Map<string, SerialQueue>();

  constructor(options: EmbeddedBackendOptions = {}) {
    this.#options = options;
  }

  /** Asks nothing: what the runtime enforces does not depend on the machine (whether a VM boots here does, at start). */
  capabilities(_options?: CallOptions): Promise<BackendCapabilities> {
    return Promise.resolve(CAPABILITIES);
  }

  /**
   * Starts `spec` (its `depends_on` first), or attaches to it when it already runs with the same
   * mounts. `options.onRequest` gets the runtime's SandboxConfig for `spec` (the builder's dry-run
   * `build()`), after the KVM check and before anything is created.
   */
  async start(spec: SandboxSpec, options?: StartCallOptions): Promise<string> {
    const { name } = spec;
    // The caller's signal and the start time limit (image pull + boot) in one signal. No grace on
    // top: unlike an HTTP request, nothing else waits on the runtime.
    const call = composeCallSignal(options, (options?.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_S) * 1000);
    checkAborted(call, name);
    // Before anything touches the runtime or pulls an image: can a VM boot here at all?
    const verdict = await (this.#options.probeKvm ?? probeKvm)();
    if (!verdict.usable) throw unavailableFromVerdict(name, verdict);
    const sdk = await (this.#options.loadSdk ?? loadEmbeddedSdk)();
    if (options?.onRequest) {
      // build() consumes its builder, so the one mapping (applyConfig) runs again for create().
      let request: Record<string, unknown>;
      try {
        request = (await applyConfig(sdk.Sandbox.builder(name), spec).build()) as unknown as Record<string, unknown>;
      } catch (err) {
        throw mapCreateError(name, spec.image, err, undefined);
      }
      await options.onRequest(request);
    }
    await this.#startTree(sdk, spec, [name], call);
    return `Sandbox ${name} started successfully`;
  }

  async #startTree(sdk: EmbeddedSdk, config: SandboxSpec, chain: string[], call: CallSignal): Promise<void> {
    const { name } = config;
    for (const dependency of config.dependsOn) {
      if (chain.includes(dependency)) {
        throw new InvalidOptionError(`depends_on forms a cycle: ${[...chain, dependency].join(" -> ")}`, {
          details: { sandbox: name, dependsOn: config.dependsOn },
        });
      }
      const resolve = this.#options.resolveDependency;
      if (resolve) {
        await this.#startTree(sdk, { ...(await resolve(dependency)), name: dependency }, [...chain, dependency], call);
      } else if ((await findHandle(sdk, dependency))?.status !== "running") {
        throw new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${name}" depends on "${dependency}", which is not running.`, {
          hint: `start "${dependency}" first, or declare it in microsandbox.toml so it is started automatically`,
          details: { sandbox: name, dependency },
        });
      }
    }
    await this.#lock(name).run(() => this.#startOne(sdk, name, config, call));
  }

  async #startOne(sdk: EmbeddedSdk, name: string, config: SandboxSpec, call: CallSignal): Promise<void> {
    checkAborted(call, name);
    const wanted = volumeKeys(config.volumes);
    const handle = await findHandle(sdk, name);
    if (handle?.status === "running") {
      if (!sameMounts(mountKeysOf(handle.config()), wanted)) throw volumeConflict(name, mountKeysOf(handle.config()), wanted);
      if (!this.#attached.has(name)) this.#attached.set(name, new Attached(await handle.connect()));
      return;
    }
    if (handle && !ENDED.has(handle.status)) {
      // Starting, draining or paused: another process is working on it; never kill that VM.
      throw new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${name}" is ${handle.status} (another process is starting or stopping it).`, {
        hint: "wait until it is running or stopped, then start it again",
        details: { sandbox: name, status: handle.status },
      });
    }
    // A stopped, crashed or never-booted record would make create() fail: the legacy server
    // started a stopped name afresh with the new config, so do the same.
    if (handle) await removeRecord(sdk, name);
    const image = config.image;
    const creating = applyConfig(sdk.Sandbox.builder(name), config).create();
    let sandbox: Sandbox;
    try {
      sandbox = await raceAbort(
        creating,
        call,
        name,
        () => void creating.then((s) => s.destroy({ force: true })).catch(() => removeRecord(sdk, name)),
      );
    } catch (err) {
      if (err instanceof MsbvError && (err.code === ErrorCodes.ABORTED || err.code === ErrorCodes.TIMEOUT)) throw err;
      const log = isBootFailure(err) ? await runtimeLogTail(name, msbHome()) : undefined;
      // A failed create leaves a stopped record (even for ephemeral sandboxes): remove it so the
      // same call fails the same way next time instead of "already exists".
      await removeRecord(sdk, name);
      throw mapCreateError(name, image, err, log);
    }
    this.#attached.set(name, new Attached(sandbox));
  }

  async stop(name: string, options?: CallOptions): Promise<string> {
    checkAborted(composeCallSignal(options), name);
    const sdk = await (this.#options.loadSdk ?? loadEmbeddedSdk)();
    return this.#lock(name).run(async () => {
      const attached = this.#attached.get(name);
      this.#attached.delete(name);
      attached?.host.close();
      const handle = await findHandle(sdk, name);
      if (!handle && !attached) throw notStarted(name);
      try {
        if (attached) await attached.sandbox.destroy({ timeoutMs: STOP_TIMEOUT_MS });
        else if (handle) await handle.destroy({ timeoutMs: STOP_TIMEOUT_MS });
      } catch {
        // Graceful stop failed or timed out: kill, then drop the record anyway.
        await handle?.kill().catch(() => undefined);
      }
      // destroy() removes the record; make sure nothing is left that would block the next start.
      await removeRecord(sdk, name);
      return `Sandbox ${name} stopped successfully`;
    });
  }

  async runCode(name: string, language: string, code: string, timeoutSeconds: number | undefined, options?: CallOptions): Promise<WireReplResult> {
    checkAborted(composeCallSignal(options), name);
    const engine = LANGUAGES[language.toLowerCase()];
    if (engine === undefined) throw new InvalidOptionError(`unsupported language "${language}": use "python" or "node"`, { details: { language } });
    const attached = await this.#attach(name);
    const lines = await attached.queue.run(() => attached.repl(engine).run(name, code, timeoutSeconds));
    return { language, output: lines, status: "success" };
  }

  async runCommand(
    name: string,
    command: string,
    args: string[],
    timeoutSeconds: number | undefined,
    options?: CallOptions,
  ): Promise<WireCommandResult> {
    checkAborted(composeCallSignal(options), name);
    const attached = await this.#attach(name);
    let handle: ExecHandle;
    try {
      handle = await attached.sandbox.execStreamWith(command, (b) => b.args(args).stdinNull());
    } catch (err) {
      throw new ServerError(ErrorCodes.SERVER_ERROR, `Cannot run \`${command}\` in sandbox "${name}": ${messageOf(err)}`, undefined, {
        cause: err,
        hint: 'use an executable that exists in the image (commands run without a shell: use command "sh" with args ["-c", "..."] for pipes or globs)',
        details: { sandbox: name, command },
      });
    }
    const result = await collectCommand(await streamOf(handle, false), timeoutSeconds);
    if (result.broken && !result.timedOut) {
      this.#attached.delete(name);
      throw new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${name}" went away while \`${command}\` was running.`, {
        hint: "start the sandbox again and repeat the command",
        details: { sandbox: name, command, output: result.output },
      });
    }
    return { command, args, exit_code: result.exitCode, output: result.output, success: result.exitCode === 0 };
  }

  async metrics(name: string | undefined, options?: CallOptions): Promise<WireMetricsRow[]> {
    checkAborted(composeCallSignal(options), name ?? "");
    const sdk = await (this.#options.loadSdk ?? loadEmbeddedSdk)();
    const handles: SandboxHandle[] = [];
    if (name !== undefined) {
      const handle = await findHandle(sdk, name);
      // stop() removes the record, so an unknown name is simply a sandbox that is not running.
      if (!handle) return [{ name, running: false, cpu_usage: null, memory_usage: null, disk_usage: null }];
      handles.push(handle);
    } else {
      const page = await sdk.Sandbox.listWith((list) => list.label(MANAGED_LABEL.key, MANAGED_LABEL.value));
      handles.push(...page.sandboxes);
    }
    return Promise.all(handles.map(metricsRow));
  }

  /** The attached sandbox, connecting to one another process started (`msbv up`, then `msbv exec`). */
  async #attach(name: string): Promise<Attached> {
    const known = this.#attached.get(name);
    if (known) return known;
    const sdk = await (this.#options.loadSdk ?? loadEmbeddedSdk)();
    return this.#lock(name).run(async () => {
      const again = this.#attached.get(name);
      if (again) return again;
      const handle = await findHandle(sdk, name);
      if (handle?.status !== "running") throw notStarted(name);
      const attached = new Attached(await handle.connect());
      this.#attached.set(name, attached);
      return attached;
    });
  }

  #lock(name: string): SerialQueue {
    let queue = this.#locks.get(name);
    if (!queue) {
      queue = new SerialQueue();
      this.#locks.set(name, queue);
    }
    return queue;
  }
}

function notStarted(name: string): SandboxStateError {
  return new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${name}" is not running on the embedded backend.`, {
    hint: "start it first (create()/start(), or `msbv up --backend embedded`)",
    details: { sandbox: name },
  });
}

function volumeConflict(name: string, running: unknown, wanted: unknown): SandboxStateError {
  return new SandboxStateError(ErrorCodes.VOLUME_CONFLICT, `Sandbox "${name}" is already running with a different volume set.`, {
    hint: "stop it first (msbv stop), or start it with the same volumes",
    details: { sandbox: name, running, requested: wanted },
  });
}
