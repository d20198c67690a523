import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { PythonSandbox, type SandboxOptions } from "../../../src/index.js";
import { distEntry } from "../../helpers/safety-fixture.js";

// A real dev server (bubblewrap, dev mode, free port) in a child process, run either as root (as CI
// runs it) or as the ordinary user `msbv-test` (created here when missing), with SERVER_MARKER in its
// environment so tests can look for it inside sandboxes. Layout under a fresh temp root owned by the
// server's user: project/ (microsandbox.toml), server/ (Sandboxfile, state), home/.

export type ServerMode = "root" | "user";
export const MODES: ServerMode[] = ["root", "user"];
export const TEST_USER = "msbv-test";
export const SERVER_MARKER = "MSBV_CONTAINMENT_MARKER";
export const SERVER_MARKER_VALUE = "server-secret-4f1c9e";

const run = promisify(execFile);

export async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const line = (await readFile("/etc/passwd", "utf8")).split("\n").find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * The ordinary user must reach this checkout (dist/, node_modules/, the fixture scripts). A clone
 * under `mktemp -d` (mode 0700) hides it: give each folder above the checkout the search bit for
 * others (o+x: pass through, never list or read) where it lacks it.
 */
async function ensureCheckoutReachable(): Promise<void> {
  const checkout = path.resolve(import.meta.dirname, "..", "..", "..");
  for (let dir = checkout; ; dir = path.dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
    if (dir === path.dirname(dir)) break;
  }
}

/** The ordinary user the "user" mode runs the server as (useradd when missing). */
export async function ensureTestUser(): Promise<{ uid: number; gid: number }> {
  await ensureCheckoutReachable();
  const existing = await userIds(TEST_USER);
  if (existing) return existing;
  await run("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", TEST_USER]).catch(async (error: unknown) => {
    if (!(await userIds(TEST_USER))) throw error; // another test file created it meanwhile
  });
  const created = await userIds(TEST_USER);
  if (!created) throw new Error(`useradd ${TEST_USER} did not create the user`);
  return created;
}

export interface ContainmentServer {
  mode: ServerMode;
  root: string;
  project: string;
  configPath: string;
  serverDir: string;
  url: string;
  /** Host uid/gid the server runs as. */
  uid: number;
  gid: number;
  pid: number;
  logs: string[];
  /** A project sub-folder `name` owned by the server's user. */
  folder(name: string): Promise<string>;
  create(name: string, options?: SandboxOptions): Promise<PythonSandbox>;
  close(): Promise<void>;
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, uid, gid);
    else await chown(full, uid, gid);
  }
}

export async function startContainmentServer(mode: ServerMode): Promise<ContainmentServer> {
  const ids = mode === "root" ? { uid: 0, gid: 0 } : await ensureTestUser();
  const root = await mkdtemp(path.join(tmpdir(), `msbv-contain-${mode}-`));
  const project = path.join(root, "project");
  const serverDir = path.join(root, "server");
  const home = path.join(root, "home");
  await mkdir(project);
  await mkdir(serverDir);
  await mkdir(home);
  const configPath = path.join(project, "microsandbox.toml");
  await writeFile(configPath, "# containment tests\n");
  await chownTree(root, ids.uid, ids.gid);
  const entry = await distEntry("server/index.js");
  // Started from the project folder, as `msbv dev-server` is: that folder is a default allowed root.
  const child: ChildProcess = spawn(process.execPath, [path.join(import.meta.dirname, "fixtures", "server-child.mjs"), entry, serverDir, home], {
    cwd: project,
    uid: ids.uid,
    gid: ids.gid,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, [SERVER_MARKER]: SERVER_MARKER_VALUE },
  });
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => logs.push(line));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`dev server (${mode}) exited with ${code}: ${logs.join("\n")}`)));
  });
  const { url, pid } = JSON.parse(first) as { url: string; pid: number };
  const sandboxes: PythonSandbox[] = [];
  return {
    mode,
    root,
    project,
    configPath,
    serverDir,
    url,
    uid: ids.uid,
    gid: ids.gid,
    pid,
    logs,
    async folder(name) {
      const dir = path.join(project, name);
      await mkdir(dir, { recursive: true });
      await chown(dir, ids.uid, ids.gid);
      return dir;
    },
    async create(name, options = {}) {
      const sb = await PythonSandbox.create({ serverUrl: url, configPath, name, ...options }).catch((error: unknown) => {
        throw new Error(`${String(error)}\nserver log:\n${logs.slice(-20).join("\n")}`, { cause: error });
      });
      sandboxes.push(sb);
      await poolRefilled(url);
      return sb;
    },
    async close() {
      await Promise.allSettled(sandboxes.map((sb) => sb.stop()));
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Runs Python in the sandbox; throws with the sandbox's stderr when the code raised. */
export async function py(sb: PythonSandbox, code: string): Promise<string> {
  const exec = await sb.run(code);
  if (exec.hasError()) throw new Error(`sandbox code failed: ${await exec.error()}`);
  return exec.output();
}

/** Runs Python that prints one JSON value; returns it parsed. */
export async function pyJson<T = Record<string, unknown>>(sb: PythonSandbox, code: string): Promise<T> {
  const out = (await py(sb, code)).trim().split("\n").pop() ?? "";
  return JSON.parse(out) as T;
}

/**
 * Python that swaps each `(x, y)` of `pairs` (bytes paths; `libc` is ctypes' libc) with renameat2
 * RENAME_EXCHANGE, forever: bursts of 20 ms as fast as it can, each ending with the pairs back in
 * place, then a rest of 0–40 ms. A start looks at its path several times (policy, runtime re-check,
 * descriptor walk, bubblewrap's fd re-check), each refusing a symlink; against an endless loop
 * almost every start meets a swapped state at one of them (CI once saw 0 good starts in 90), so
 * "the race was on: some starts were good" could not hold. The bursts still race every look; the
 * rests let a whole start fall between them.
 */
export const RENAME_SWAP_LOOP = `import random, time
while True:
    burst_end = time.monotonic() + 0.02
    while time.monotonic() < burst_end:
        for _ in range(2):
            for x, y in pairs:
                libc.renameat2(-100, x, -100, y, 2)  # RENAME_EXCHANGE
    time.sleep(random.uniform(0, 0.04))
`;

/**
 * Starts the rename-exchange loop (RENAME_SWAP_LOOP) inside `sb` and waits until it runs (it creates
 * `<guest>/swapper-ready`, seen on the host in `hostDir`). The loop stays in the REPL as `swapper`;
 * end it with `swapper.kill()`.
 */
export async function startRenameSwapper(
  sb: PythonSandbox,
  guest: string,
  hostDir: string,
  pairs: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  const swapper = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
pairs = ${JSON.stringify(pairs.map(([x, y]) => [`${guest}/${x}`, `${guest}/${y}`]))}
pairs = [(x.encode(), y.encode()) for x, y in pairs]
open(${JSON.stringify(`${guest}/swapper-ready`)}, 'w').close()
${RENAME_SWAP_LOOP}`;
  await py(
    sb,
    `import subprocess, sys\nswapper = subprocess.Popen([sys.executable, '-c', ${JSON.stringify(swapper)}], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)`,
  );
  for (let i = 0; i < 200; i++) {
    if (
      await stat(path.join(hostDir, "swapper-ready")).then(
        () => true,
        () => false,
      )
    )
      return;
    await sleep(25);
  }
  throw new Error("the rename swapper did not start within 5 s");
}

/** Host uids (real) of the processes whose command line mentions `needle`. */
export async function hostUidsOf(pids: readonly number[]): Promise<number[]> {
  const uids: number[] = [];
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (uid !== undefined) uids.push(Number(uid));
  }
  return uids;
}

/** Every live host process below `root` in the process tree (not `root` itself). */
export async function descendantsOf(root: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (stat) parent.set(Number(entry), ppid);
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter(below);
}

/**
 * Waits until the server's pool of pre-started sandboxes is full again (`GET /_dev/pool`), so every
 * create after a server's first one takes a pooled sandbox when the server runs as root: the
 * containment tests then attack pooled sandboxes as well as cold ones. As an ordinary user the
 * pool is off (size 0) and this returns at once.
 */
async function poolRefilled(url: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const { ready, wanted } = (await (await fetch(`${url}/_dev/pool`)).json()) as { ready: number; wanted: number };
    if (ready >= wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the dev server's sandbox pool at ${url} did not fill within 15 s`);
}
