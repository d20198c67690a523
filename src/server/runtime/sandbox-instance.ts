import { stat } from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DevServerError, InvalidOptionError } from "../../errors/index.js";
import { BIN_LINK_DIR, binLinks, type BinLink } from "./bin-links.js";
import type { HostLayout } from "./bwrap-args.js";
import { prepareLaunch } from "./containment/launch.js";
import { prepareLimits, tmpfsBytes, type LimitMechanism } from "./containment/limits.js";
import { allocateIdentity, type SandboxIdentity } from "./containment/sandbox-identity.js";
import type { AttachServer } from "./pool/attach-server.js";
import { attachVolumes } from "./pool/attach-volumes.js";
import { attachCanWait } from "./pool/deferred-attach.js";
import { parkedReplFits } from "./pool/parked-repl.js";
import { requireImageLanguage, type RuntimeLanguage } from "./images.js";
import type { Interpreters } from "./interpreters.js";
import { driverArgv } from "./driver-argv.js";
import { CLOCK_TICKS_PER_SECOND, processTree, processTreeStats, rssKiB } from "./proc-tree.js";
import { ReplSession } from "./repl-session.js";
import { runCommand } from "./run-command.js";
import { DEFAULT_WORKDIR, parseEnvs, sandboxEnv } from "./sandbox-env.js";
import { hasLoneSurrogate } from "../../text/lone-surrogate.js";
import { SerialQueue } from "./serial-queue.js";
import { adoptSandboxDirs, diskUsage, prepareSandboxDirs, validateSandboxName, type SandboxDirs } from "./state-dir.js";
import { SUPERVISOR_NODE_FLAGS, SUPERVISOR_SCRIPT } from "./supervisor-script.js";
import { SupervisorConnection, type ChildHandlers, type RawChildRef, type SpawnOptions } from "./supervisor-connection.js";
import type { RuntimeMetrics, RuntimeOutputLine, RuntimeSandboxSpec } from "./types.js";
import { checkVolumes } from "./volume-checks.js";
import { verifyVolumeMounts } from "./containment/verify-mounts.js";

/** What every sandbox of one runtime shares. */
export interface RuntimeContext {
  stateDir: string;
  bwrapPath: string;
  etcDir: string;
  layout: HostLayout;
  interpreters: Interpreters;
  /** Share the host network (dev server `--allow-network`); otherwise the sandbox has none. */
  network?: boolean;
  /** The compiled seccomp program (containment/seccomp-filter.ts), written once per runtime. */
  seccompFile: string;
  limitMechanism: LimitMechanism;
}

interface MountedFolder {
  host: string;
  dev: number;
  ino: number;
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
  /** Each volume's host folder identity when it was mounted (see replacedVolumes). */
  #mounted: MountedFolder[] = [];
  #disk: { at: number; bytes: number } | undefined;
  readonly #release: () => Promise<void>;

  private constructor(name: string, context: RuntimeContext, connection: SupervisorConnection, dirs: SandboxDirs, release: () => Promise<void>) {
    this.name = name;
    this.#context = context;
    this.#connection = connection;
    this.#dirs = dirs;
    this.#release = release;
    connection.onClose(() => void release());
  }

  /** Prepares the state dirs and launches bubblewrap; resolves once the supervisor is ready. */
  static async start(context: RuntimeContext, spec: RuntimeSandboxSpec): Promise<SandboxInstance> {
    const { language, workdir, userEnvs } = checkSpec(context, spec);
    const dirs = await prepareSandboxDirs(context.stateDir, spec.name, spec.scripts, spec.shell);
    await checkVolumes(spec.name, spec.volumes, context.stateDir, dirs);
    const launched = await launchSandbox(context, {
      label: spec.name,
      language,
      memory: spec.memory,
      dirs,
      userEnvs,
      workdir,
      volumes: spec.volumes,
    });
    // The supervisor is ready and no user code has run yet: check the finished mount table, which
    // nothing outside the sandbox can change any more (containment/verify-mounts.ts).
    try {
      await verifySandboxMounts(spec.name, launched.connection.bwrapPid, spec.volumes);
    } catch (error) {
      await launched.connection.terminate();
      await launched.release();
      throw error;
    }
    const instance = new SandboxInstance(spec.name, context, launched.connection, dirs, launched.release);
    instance.#mounted = launched.mounted;
    return instance;
  }

  /**
   * Starts a sandbox for the pool (pool/warm-pool.ts): the same launch as a cold start, under the
   * slot's own state folders, with no volumes, no user environment and the supervisor waiting for
   * {@link SandboxInstance.adopt}.
   */
  static async launchPooled(context: RuntimeContext, slot: string, image: string, memory: number | undefined): Promise<PooledSandbox> {
    const language = requireImageLanguage(image, slot);
    const dirs = await prepareSandboxDirs(context.stateDir, slot, undefined, undefined);
    // Nice 19: filling the pool must not take CPU from the starts and runs it is there to speed up.
    const launched = await launchSandbox(context, { label: slot, language, memory, dirs, userEnvs: [], workdir: "", volumes: [], nice: 19 });
    // Python's start is most of a first run (pool/parked-repl.ts says when it is kept). Node's driver
    // roots `require` at its start folder, so it is not parked.
    const repl = language === "python" ? replSession(context, launched.connection, language) : undefined;
    await repl?.park(slot);
    return { slot, language, dirs, ...launched, ...(repl ? { repl } : {}) };
  }

  /**
   * Turns a waiting pooled sandbox into `spec`'s sandbox: its slot folders become the name's state
   * (only for a name that has none yet, see pool/warm-pool.ts), then its volumes are mounted, its
   * hostname set and its supervisor given the environment and workdir; the mount table is checked
   * as after a cold start. On any failure the pooled sandbox is gone and the error is thrown.
   */
  static async adopt(context: RuntimeContext, pooled: PooledSandbox, spec: RuntimeSandboxSpec, attacher: AttachServer): Promise<SandboxInstance> {
    const { connection, release } = pooled;
    try {
      const { language, workdir, userEnvs } = checkSpec(context, spec);
      if (language !== pooled.language) throw new DevServerError(`The pooled sandbox runs ${pooled.language}, not ${language}.`);
      const dirs = await adoptSandboxDirs(context.stateDir, pooled.dirs, spec.name, spec.scripts, spec.shell);
      await checkVolumes(spec.name, spec.volumes, context.stateDir, dirs);
      const mounted = await attachVolumes(attacher, { name: spec.name, identity: pooled.identity, bwrapPid: connection.bwrapPid }, spec.volumes);
      const links = binLinks(language, context.interpreters);
      const env = environment(context, language, links, userEnvs);
      const folders = { workdir, volumes: spec.volumes.map((volume) => volume.guest) };
      const keepRepl = pooled.repl !== undefined && parkedReplFits(environment(context, language, links, []), env, folders);
      if (!keepRepl) await pooled.repl?.discard();
      if (attachCanWait(language, workdir, folders.volumes)) connection.attachWithNextRequest(env, workdir);
      else await connection.attach(env, workdir);
      await verifySandboxMounts(spec.name, connection.bwrapPid, spec.volumes);
      const instance = new SandboxInstance(spec.name, context, connection, dirs, release);
      instance.#mounted = mounted;
      if (keepRepl && pooled.repl) instance.#repls.set(language, pooled.repl);
      return instance;
    } catch (error) {
      await connection.terminate();
      await release();
      throw error;
    }
  }

  /**
   * Host folders that are no longer the ones mounted: deleted, or replaced (`rm -rf ws && mkdir ws`).
   * The mount keeps the old folder, so writes would vanish; a re-attaching start must not go ahead.
   */
  async replacedVolumes(): Promise<string[]> {
    const replaced: string[] = [];
    for (const m of this.#mounted) {
      const now = await folderId(m.host).catch(() => undefined);
      if (!now || now.dev !== m.dev || now.ino !== m.ino) replaced.push(m.host);
    }
    return replaced;
  }

  get running(): boolean {
    return this.#connection.alive;
  }

  /** Calls `listener` once when the sandbox goes away for any reason. */
  onClose(listener: () => void): void {
    this.#connection.onClose(listener);
  }

  runRepl(language: RuntimeLanguage, code: string, timeoutSeconds?: number, hungUp?: AbortSignal): Promise<RuntimeOutputLine[]> {
    return this.#replQueue.run(() => this.#repl(language).run(this.name, code, timeoutSeconds, hungUp));
  }

  runCommand(
    command: string,
    args: readonly string[],
    timeoutSeconds?: number,
    hungUp?: AbortSignal,
  ): Promise<{ exitCode: number; output: RuntimeOutputLine[] }> {
    return runCommand(this.#connection, this.name, command, args, timeoutSeconds, hungUp);
  }

  /** Sync file channel hook (src/server/runtime/sandbox-file-stream.ts): a child with raw output and a private input fd 3. */
  spawnRaw(argv: string[], handlers: ChildHandlers, options?: SpawnOptions): RawChildRef {
    return this.#connection.spawn(argv, true, handlers, options);
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
    await this.#release();
  }

  async #treeSample(root: number): Promise<{ at: number; ticks: number; pids: number[] }> {
    const tree = await processTreeStats(root);
    return { at: Date.now(), ticks: tree.reduce((sum, stat) => sum + stat.cpuTicks, 0), pids: tree.map((stat) => stat.pid) };
  }

  #repl(language: RuntimeLanguage): ReplSession {
    let session = this.#repls.get(language);
    if (!session) {
      session = replSession(this.#context, this.#connection, language);
      this.#repls.set(language, session);
    }
    return session;
  }
}

function replSession(context: RuntimeContext, connection: SupervisorConnection, language: RuntimeLanguage): ReplSession {
  // Availability of python was checked at start for python images; for a node image a python
  // run on a host without python reports "Engine unavailable" like upstream.
  const argv = driverArgv(language, language === "python" ? (context.interpreters.python ?? "python3") : context.interpreters.node);
  return new ReplSession(connection, language, argv);
}

async function folderId(host: string): Promise<{ dev: number; ino: number }> {
  const info = await stat(host);
  return { dev: info.dev, ino: info.ino };
}

/** Checks the mount table of every process inside the sandbox (bubblewrap's init and the supervisor). */
async function verifySandboxMounts(name: string, bwrapPid: number | undefined, volumes: RuntimeSandboxSpec["volumes"]): Promise<void> {
  if (volumes.length === 0) return;
  const inside = bwrapPid === undefined ? [] : (await processTree(bwrapPid)).filter((pid) => pid !== bwrapPid);
  if (inside.length === 0) {
    throw new DevServerError(`Cannot start sandbox "${name}": no process inside it to check its mounts against.`, {
      hint: "start the sandbox again",
      details: { sandbox: name },
    });
  }
  verifyVolumeMounts(name, inside, volumes);
}

/** A started sandbox waiting in the pool: no name, no volumes, no user environment yet. */
export interface PooledSandbox {
  slot: string;
  language: RuntimeLanguage;
  /** The slot's state folders (`<state>/.pool/<slot>`), bound at /, /home and /.sandbox. */
  dirs: SandboxDirs;
  connection: SupervisorConnection;
  identity: SandboxIdentity;
  mounted: MountedFolder[];
  /** Its Python REPL, started while it waits (pool/parked-repl.ts). */
  repl?: ReplSession;
  release(): Promise<void>;
}

/** The checks every start makes before anything is created; returns what the launch needs. */
function checkSpec(
  context: RuntimeContext,
  spec: RuntimeSandboxSpec,
): { language: RuntimeLanguage; workdir: string; userEnvs: Array<[string, string]> } {
  validateSandboxName(spec.name);
  const language = requireImageLanguage(spec.image, spec.name);
  if (language === "python" && !context.interpreters.python) {
    throw new DevServerError(
      `Cannot start sandbox "${spec.name}" (${spec.image}): no system python3 found (looked at /usr/bin/python3, /usr/local/bin/python3; interpreters under /root or /home are not used).`,
      {
        hint: "install Python 3 system-wide, e.g. `apt-get install python3`",
        details: { sandbox: spec.name },
      },
    );
  }
  const userEnvs = parseEnvs(spec.envs, spec.name);
  const workdir = spec.workdir?.trim() ? spec.workdir.trim() : DEFAULT_WORKDIR[language];
  // bubblewrap creates the workdir (--dir) while the host root is still reachable as /oldroot, so a
  // path such as "/../oldroot/tmp/x" would create a host folder: only normalised absolute paths.
  if (!path.posix.isAbsolute(workdir) || path.posix.normalize(workdir) !== workdir || workdir.split("/").includes("..")) {
    throw new InvalidOptionError(
      `Invalid workdir "${workdir}" for sandbox "${spec.name}": it must be a normalised absolute path inside the sandbox (no "..").`,
      {
        hint: 'use a path such as "/workspace" or "/home/python-user/work"',
        details: { sandbox: spec.name, workdir },
      },
    );
  }
  if (hasLoneSurrogate(workdir)) {
    throw new InvalidOptionError(`Invalid workdir for sandbox "${spec.name}": it holds a lone UTF-16 surrogate, which is not text.`, {
      hint: "pass the workdir as valid Unicode text",
      details: { sandbox: spec.name },
    });
  }
  return { language, workdir, userEnvs };
}

/** The environment of a sandbox of `language` with `links` (binLinks, read once per start): the image's base plus the user's entries. */
function environment(
  context: RuntimeContext,
  language: RuntimeLanguage,
  links: readonly BinLink[],
  userEnvs: Array<[string, string]>,
): Array<[string, string]> {
  const pathDirs = links.length > 0 ? [BIN_LINK_DIR, ...context.interpreters.pathDirs] : context.interpreters.pathDirs;
  return sandboxEnv(language, pathDirs, userEnvs);
}

interface LaunchPlan {
  /** The sandbox's name, or the pool slot's; shown in `ps` and used as the hostname until attached. */
  label: string;
  language: RuntimeLanguage;
  memory: number | undefined;
  dirs: SandboxDirs;
  userEnvs: Array<[string, string]>;
  /** "" for a pooled start: the supervisor waits for attach(). */
  workdir: string;
  volumes: RuntimeSandboxSpec["volumes"];
  nice?: number;
}

/** The one launch: identity, limits, descriptors, bubblewrap and the supervisor's ready signal. */
async function launchSandbox(
  context: RuntimeContext,
  plan: LaunchPlan,
): Promise<{ connection: SupervisorConnection; identity: SandboxIdentity; mounted: MountedFolder[]; release: () => Promise<void> }> {
  const links = binLinks(plan.language, context.interpreters);
  const env = environment(context, plan.language, links, plan.userEnvs);
  const identity = allocateIdentity();
  let limits: Awaited<ReturnType<typeof prepareLimits>>;
  try {
    limits = await prepareLimits(plan.label, identity, plan.memory, context.limitMechanism);
  } catch (error) {
    identity.release();
    throw error;
  }
  let released: Promise<void> | undefined;
  // Once per sandbox, after its last process is gone: cgroups removed, uid back to the pool.
  const release = (): Promise<void> => (released ??= limits.cleanup().finally(() => identity.release()));
  try {
    const launch = await prepareLaunch({
      name: plan.label,
      ...(plan.nice ? { nice: plan.nice } : {}),
      bwrapPath: context.bwrapPath,
      identity,
      limits,
      seccompFile: context.seccompFile,
      etcFiles: ["passwd", "group", "hosts"].map((file) => ({ host: path.join(context.etcDir, file), guest: `/etc/${file}` })),
      root: plan.dirs.rootfs,
      home: plan.dirs.home,
      dotSandbox: plan.dirs.dotSandbox,
      volumes: plan.volumes.map((volume) => ({ host: volume.host, guest: volume.guest, readonly: volume.readonly === true })),
      plan: {
        name: plan.label,
        layout: context.layout,
        ...(context.network ? { network: true } : {}),
        extraRoDirs: context.interpreters.roDirs,
        binLinks: links,
        binLinkDir: BIN_LINK_DIR,
        env,
        // A pooled sandbox's workdir is made by its supervisor at attach time.
        ...(plan.workdir ? { workdir: plan.workdir } : {}),
        tmpfsBytes: tmpfsBytes(plan.memory),
        // The label only makes `ps` output on the host say which sandbox and which state dir a
        // process belongs to (binds are by descriptor, so no host path is in bwrap's argv
        // otherwise); the supervisor ignores it. Sandboxed code can read it in /proc/1/cmdline,
        // like the mount roots in /proc/self/mountinfo (docs/security.md, out of scope).
        command: [
          context.interpreters.node,
          ...SUPERVISOR_NODE_FLAGS,
          "-e",
          SUPERVISOR_SCRIPT,
          `msbv-sandbox:${plan.label}:${plan.dirs.root}`,
          plan.workdir,
        ],
      },
    });
    try {
      const connection = await SupervisorConnection.launch({ bwrapPath: context.bwrapPath, launch, name: plan.label });
      // What is mounted is the descriptor opened here; replacedVolumes compares the paths against it.
      return { connection, identity, mounted: launch.volumeIds, release };
    } finally {
      await launch.close();
    }
  } catch (error) {
    await release();
    throw error;
  }
}
