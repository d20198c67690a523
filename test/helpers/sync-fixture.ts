import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxBackend } from "../../src/backend/backend.js";
import { RpcBackend } from "../../src/backend/rpc-backend.js";
import { startDevServer, type DevServerOptions } from "../../src/server/index.js";
import { tempDir } from "./temp-dir.js";

/** A real dev server (bubblewrap) and a temp host folder per test file. */
export interface SyncFixture extends AsyncDisposable {
  dir: string;
  url: string;
  backend: RpcBackend;
  /** Every `sandbox.start` the server received. */
  received: { sandbox: unknown; config: unknown }[];
  /** Starts a python sandbox with no volumes (sync mode sends none) and remembers it for cleanup. */
  start(name: string): Promise<void>;
  /** Runs `sh -c script` in the sandbox; returns stdout, throws on a non-zero exit. */
  sh(name: string, script: string): Promise<string>;
  /**
   * `ls -A dir` once no `.msbv-part-*` file is left in it (waits at most 30 s, then lists what is there): an
   * upload the host abandons mid-way (its file shrank, a read failed) fails at once, and the sandbox side
   * removes its part file a moment later, when the server sees the connection close.
   */
  namesOncePartsGone(name: string, dir: string): Promise<string>;
  /** A fresh host folder under the fixture's temp dir. */
  hostDir(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startSyncFixture(options: Pick<DevServerOptions, "syncFileChannel"> = {}): Promise<SyncFixture> {
  const temp = await tempDir("msbv-sync-e2e-");
  const dir = temp.path;
  const server = await startDevServer({ port: 0, dev: true, projectDir: join(dir, "server"), allowRoots: [dir], logger: () => {}, ...options }).catch(
    async (err: unknown) => {
      await temp.remove();
      throw err;
    },
  );
  const backend = new RpcBackend({ url: server.url });
  const started = new Set<string>();
  const close = async () => {
    try {
      for (const name of started) await backend.stop(name).catch(() => undefined);
      await server.close();
    } finally {
      await temp.remove();
    }
  };
  const sh = async (name: string, script: string) => {
    const r = await backend.runCommand(name, "sh", ["-c", script], 60);
    const text = (s: string) =>
      r.output
        .filter((l) => l.stream === s)
        .map((l) => l.text)
        .join("\n");
    if (r.exit_code !== 0) throw new Error(`sandbox script failed (${r.exit_code}): ${text("stderr")}`);
    return text("stdout");
  };
  return {
    dir,
    url: server.url,
    backend,
    received: server.received,
    async start(name) {
      await backend.start({ name, image: "microsandbox/python", memory: 512, cpus: 1, volumes: [], ports: [], envs: [], dependsOn: [] });
      started.add(name);
    },
    sh,
    namesOncePartsGone: (name, dir) =>
      sh(name, `timeout 30 sh -c 'while ls -A "$1" | grep -q msbv-part; do sleep 0.05; done' sh ${dir}; ls -A ${dir}`),
    async hostDir(name) {
      const d = join(dir, name);
      await mkdir(d, { recursive: true });
      return d;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Wraps a backend to observe (and, for attack tests, act after) each command the sync layer sends. */
export function observeCommands(
  inner: SandboxBackend,
  // May return replacement stdout lines: a hostile sandbox controls what its commands print.
  // biome-ignore lint/suspicious/noConfusingVoidType: hooks are plain async functions that may return nothing.
  after?: (script: string, args: string[]) => Promise<void | string[]>,
): { backend: SandboxBackend; bodies: number[]; scripts: string[] } {
  const bodies: number[] = [];
  const scripts: string[] = [];
  const backend = forwardingBackend(inner, {
    async runCommand(name, command, args, timeout, options) {
      bodies.push(Buffer.byteLength(JSON.stringify({ command, args })));
      scripts.push(args[1] ?? "");
      const result = await inner.runCommand(name, command, args, timeout, options);
      const stdout = after ? await after(args[1] ?? "", args.slice(3)) : undefined;
      if (!stdout) return result;
      return {
        ...result,
        output: [...result.output.filter((l) => l.stream !== "stdout"), ...stdout.map((text) => ({ stream: "stdout" as const, text }))],
      };
    },
  });
  return { backend, bodies, scripts };
}

/**
 * `inner` with some methods replaced: the one way the sync tests wrap a backend to observe or attack
 * what the sync layer sends. The core methods forward as they are; the optional file channel is left
 * out unless `overrides` gives one, so sync takes the command route (what most of these tests watch).
 */
export function forwardingBackend(inner: SandboxBackend, overrides: Partial<SandboxBackend>): SandboxBackend {
  return {
    capabilities: (...a) => inner.capabilities(...a),
    start: (...a) => inner.start(...a),
    stop: (...a) => inner.stop(...a),
    runCode: (...a) => inner.runCode(...a),
    metrics: (...a) => inner.metrics(...a),
    runCommand: (...a) => inner.runCommand(...a),
    ...overrides,
  };
}
