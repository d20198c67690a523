import { setTimeout as sleep } from "node:timers/promises";
import { DevServerError } from "../../errors/index.js";
import { buildBwrapArgs, type HostLayout } from "./bwrap-args.js";
import { requireImageLanguage, type RuntimeLanguage } from "./images.js";
import type { Interpreters } from "./interpreters.js";
import { NODE_DRIVER } from "./node-driver.js";
import { CLOCK_TICKS_PER_SECOND, descendants, readProcTable, rssKiB } from "./proc-tree.js";
import { PYTHON_DRIVER } from "./python-driver.js";
import { ReplSession } from "./repl-session.js";
import { runCommand } from "./run-command.js";
import { DEFAULT_WORKDIR, parseEnvs, sandboxEnv } from "./sandbox-env.js";
import { SerialQueue } from "./serial-queue.js";
import { diskUsage, prepareSandboxDirs, validateSandboxName, type SandboxDirs } from "./state-dir.js";
import { SUPERVISOR_SCRIPT } from "./supervisor-script.js";
import { SupervisorConnection, type ChildHandlers, type ChildRef } from "./supervisor-connection.js";
import type { RuntimeMetrics, RuntimeOutputLine, RuntimeSandboxSpec } from "./types.js";
import { checkVolumes } from "./volume-checks.js";

/** What every sandbox of one runtime shares. */
export interface RuntimeContext {
  stateDir: string;
  bwrapPath: string;
  etcDir: string;
  layout: HostLayout;
  interpreters: Interpreters;
}

const CPU_SAMPLE_MS = 100;
const DISK_CACHE_MS = 2000;

/** One running sandbox: its bubblewrap process, REPLs, command runner and metrics. */
export class SandboxInstance {
  readonly name: string;
  readonly #context: RuntimeContext;
  readonly #connection: SupervisorConnection;
  readonly #dirs: SandboxDirs;
  readonly #repls = new Map<RuntimeLanguage, ReplSession>();
  readonly #replQueue = new SerialQueue();
  #cpuSample: { at: number; ticks: number } | undefined;
  #disk: { at: number; bytes: number } | undefined;

  private constructor(name: string, context: RuntimeContext, connection: SupervisorConnection, dirs: SandboxDirs) {
    this.name = name;
    this.#context = context;
    this.#connection = connection;
    this.#dirs = dirs;
  }

  /** Prepares the state dirs and launches bubblewrap; resolves once the supervisor is ready. */
  static async start(context: RuntimeContext, spec: RuntimeSandboxSpec): Promise<SandboxInstance> {
    validateSandboxName(spec.name);
    const language = requireImageLanguage(spec.image, spec.name);
    if (language === "python" && !context.interpreters.python) {
      throw new DevServerError(`Cannot start sandbox "${spec.name}" (${spec.image}): no system python3 found (looked at /usr/bin/python3, /usr/local/bin/python3; interpreters under /root or /home are not used).`, {
        hint: "install Python 3 system-wide, e.g. `apt-get install python3`",
        details: { sandbox: spec.name },
      });
    }
    const env = sandboxEnv(language, context.interpreters.pathDirs, parseEnvs(spec.envs, spec.name));
    const dirs = await prepareSandboxDirs(context.stateDir, spec.name, spec.scripts, spec.shell);
    await checkVolumes(spec.name, spec.volumes, context.stateDir, dirs);
    const workdir = spec.workdir && spec.workdir.trim() ? spec.workdir.trim() : DEFAULT_WORKDIR[language];
    const args = buildBwrapArgs({
      name: spec.name,
      layout: context.layout,
      etcDir: context.etcDir,
      homeDir: dirs.home,
      dotSandboxDir: dirs.dotSandbox,
      extraRoDirs: context.interpreters.roDirs,
      volumes: spec.volumes,
      env,
      workdir,
      // The label only makes `ps` output readable on the host; the supervisor ignores it.
      command: [context.interpreters.node, "-e", SUPERVISOR_SCRIPT, `msbv-sandbox:${spec.name}`, workdir],
    });
    const connection = await SupervisorConnection.launch({ bwrapPath: context.bwrapPath, args, name: spec.name });
    return new SandboxInstance(spec.name, context, connection, dirs);
  }

  get running(): boolean {
    return this.#connection.alive;
  }

  /** Calls `listener` once when the sandbox goes away for any reason. */
  onClose(listener: () => void): void {
    this.#connection.onClose(listener);
  }

  runRepl(language: RuntimeLanguage, code: string, timeoutSeconds?: number): Promise<RuntimeOutputLine[]> {
    return this.#replQueue.run(() => this.#repl(language).run(this.name, code, timeoutSeconds));
  }

  runCommand(command: string, args: readonly string[], timeoutSeconds?: number): Promise<{ exitCode: number; output: RuntimeOutputLine[] }> {
    return runCommand(this.#connection, this.name, command, args, timeoutSeconds);
  }

  /** Sync file channel hook (src/server/runtime/sandbox-file-stream.ts): a child with raw output and a private input fd 3. */
  spawnRaw(argv: string[], handlers: ChildHandlers): ChildRef {
    return this.#connection.spawn(argv, true, handlers);
  }

  async metrics(): Promise<RuntimeMetrics> {
    const root = this.#connection.bwrapPid;
    if (!this.running || root === undefined) return { running: false, cpuPercent: null, memoryMiB: null, diskBytes: null };
    const first = await this.#treeSample(root);
    let previous = this.#cpuSample;
    let current = first;
    // Without an earlier sample, measure over a short window instead of reporting 0.
    if (!previous) {
      await sleep(CPU_SAMPLE_MS);
      previous = { at: first.at, ticks: first.ticks };
      current = await this.#treeSample(root);
    }
    this.#cpuSample = { at: current.at, ticks: current.ticks };
    const elapsedSeconds = (current.at - previous.at) / 1000;
    const cpuPercent = elapsedSeconds > 0 ? Math.max(0, ((current.ticks - previous.ticks) / CLOCK_TICKS_PER_SECOND / elapsedSeconds) * 100) : 0;
    const memoryKiB = (await Promise.all(current.pids.map(rssKiB))).reduce((sum, kib) => sum + kib, 0);
    const now = Date.now();
    if (!this.#disk || now - this.#disk.at > DISK_CACHE_MS) this.#disk = { at: now, bytes: await diskUsage(this.#dirs.rw) };
    return {
      running: this.running,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      // Whole MiB, integer-divided like upstream's `memory_usage`.
      memoryMiB: Math.floor(memoryKiB / 1024),
      diskBytes: this.#disk.bytes,
    };
  }

  /** Kills the whole process tree and waits until nothing of it is left. */
  async stop(): Promise<void> {
    await this.#connection.terminate();
  }

  async #treeSample(root: number): Promise<{ at: number; ticks: number; pids: number[] }> {
    const tree = descendants(await readProcTable(), root);
    return { at: Date.now(), ticks: tree.reduce((sum, stat) => sum + stat.cpuTicks, 0), pids: tree.map((stat) => stat.pid) };
  }

  #repl(language: RuntimeLanguage): ReplSession {
    let session = this.#repls.get(language);
    if (!session) {
      // Availability of python was checked at start for python images; for a node image a python
      // run on a host without python reports "Engine unavailable" like upstream.
      const argv = language === "python" ? [this.#context.interpreters.python ?? "python3", "-u", "-c", PYTHON_DRIVER] : [this.#context.interpreters.node, "-e", NODE_DRIVER];
      session = new ReplSession(this.#connection, language, argv);
      this.#repls.set(language, session);
    }
    return session;
  }
}
