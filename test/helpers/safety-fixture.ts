import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RpcBackend } from "../../src/index.js";
import { startDevServer, type DevServerHandle } from "../../src/server/index.js";
export { processesMentioning, pidNamespaces, processesInNamespaces, sandboxProcessesMentioning } from "./processes.js";
import { sandboxProcessesMentioning } from "./processes.js";
import { tempDir } from "./temp-dir.js";

/**
 * A real dev server (bubblewrap, dev mode, free port) plus a temp client project:
 * `<root>/project` (microsandbox.toml, `ws/`), `<root>/server` (the server's Sandboxfile and state),
 * `<root>/home` (the server's home: server.key would live there). Nothing outside `<root>` is touched.
 */
export interface SafetyServer extends AsyncDisposable {
  root: string;
  project: string;
  configPath: string;
  serverDir: string;
  home: string;
  url: string;
  server: DevServerHandle;
  /** Server log lines (shown by tests that need them). */
  logs: string[];
  backend: RpcBackend;
  /** Names of the sandboxes the server reports as running (empty before the first start). */
  runningSandboxes(): Promise<string[]>;
  /** Host processes started for this server's sandboxes (their bwrap command lines name `serverDir`). */
  sandboxProcesses(): Promise<number[]>;
  close(): Promise<void>;
}

export async function startSafetyServer(configToml = "# safety tests\n"): Promise<SafetyServer> {
  const temp = await tempDir("msbv-safety-");
  const root = temp.path;
  const project = path.join(root, "project");
  const serverDir = path.join(root, "server");
  const home = path.join(root, "home");
  await mkdir(path.join(project, "ws"), { recursive: true });
  await mkdir(home);
  const configPath = path.join(project, "microsandbox.toml");
  await writeFile(configPath, configToml);
  const logs: string[] = [];
  let server: DevServerHandle;
  try {
    // Volumes may come from the client project only (the server refuses host paths anywhere else).
    server = await startDevServer({ port: 0, dev: true, projectDir: serverDir, home, allowRoots: [project], logger: (line) => logs.push(line) });
  } catch (err) {
    await temp.remove();
    throw err;
  }
  const backend = new RpcBackend({ url: server.url });
  const close = async () => {
    try {
      await server.close();
    } finally {
      await temp.remove();
    }
  };
  return {
    root,
    project,
    configPath,
    serverDir,
    home,
    url: server.url,
    server,
    logs,
    backend,
    async runningSandboxes() {
      const rows = await backend.metrics(undefined).catch(() => []);
      return rows.filter((r) => r.running).map((r) => r.name);
    },
    sandboxProcesses: () => sandboxProcessesMentioning(serverDir),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Polls `probe` until it returns an empty list (or ~10 s pass); returns the last result. */
export async function waitUntilEmpty<T>(probe: () => Promise<T[]>): Promise<T[]> {
  let left = await probe();
  for (let i = 0; i < 200 && left.length > 0; i++) {
    await sleep(50);
    left = await probe();
  }
  return left;
}

/**
 * Every entry under `dir` (not following symlinks) with its kind, mode, size, mtime and, for files,
 * the SHA-256 of the content; for symlinks, the target text. Two equal snapshots mean nothing was
 * created, removed, changed or even touched.
 */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    const base = `mode=${(st.mode & 0o7777).toString(8)} mtime=${st.mtimeMs}`;
    if (st.isSymbolicLink()) out.set(rel, `link -> ${await readlink(abs)}`);
    else if (st.isFile()) {
      out.set(
        rel,
        `file ${base} size=${st.size} sha256=${createHash("sha256")
          .update(await readFile(abs))
          .digest("hex")}`,
      );
    } else if (st.isDirectory()) {
      out.set(rel, `dir ${base}`);
      for (const name of (await readdir(abs)).sort()) await visit(path.join(abs, name), rel === "." ? name : `${rel}/${name}`);
    } else out.set(rel, `other ${base}`);
  };
  await visit(dir, ".");
  return out;
}

/** The built JS of this package (child processes cannot import the TypeScript sources directly). */
export async function distEntry(relative: "index.js" | "server/index.js"): Promise<string> {
  const file = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../dist", relative);
  try {
    await lstat(file);
  } catch {
    throw new Error(`${file} is missing: run \`npm run build\` first (\`npm test\` builds before running vitest)`);
  }
  return file;
}
