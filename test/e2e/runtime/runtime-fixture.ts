import { mkdtemp, readFile, readdir, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createBwrapRuntime } from "../../../src/server/runtime/index.js";
import type { RuntimeSandboxSpec, SandboxRuntime } from "../../../src/server/runtime/types.js";

/** A runtime over a fresh temp state dir plus a workspace dir; `dispose` stops and deletes all. */
export interface RuntimeFixture {
  root: string;
  stateDir: string;
  runtime: SandboxRuntime;
  /** A new empty host directory under the fixture root. */
  newDir(label: string): Promise<string>;
  spec(name: string, overrides?: Partial<RuntimeSandboxSpec>): RuntimeSandboxSpec;
  dispose(): Promise<void>;
}

export async function createRuntimeFixture(): Promise<RuntimeFixture> {
  const root = await mkdtemp(path.join(tmpdir(), "msbv-runtime-"));
  const stateDir = path.join(root, "state");
  const runtime = createBwrapRuntime({ stateDir });
  let counter = 0;
  return {
    root,
    stateDir,
    runtime,
    async newDir(label) {
      const dir = path.join(root, `${label}-${counter++}`);
      const { mkdir } = await import("node:fs/promises");
      await mkdir(dir, { recursive: true });
      return dir;
    },
    spec: (name, overrides = {}) => ({ name, image: "microsandbox/python", volumes: [], envs: [], ...overrides }),
    async dispose() {
      await runtime.shutdown();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Host processes whose command line mentions `needle` (e.g. a fixture's unique root). */
export async function processesMentioning(needle: string): Promise<number[]> {
  const hits: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replaceAll("\0", " ");
      if (cmdline.includes(needle)) hits.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return hits;
}

/** PID-namespace ids (e.g. "pid:[4026532181]") of the given processes. */
export async function pidNamespaces(pids: readonly number[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const pid of pids) {
    try {
      out.add(await readlink(`/proc/${pid}/ns/pid`));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Live (non-zombie) host processes that are inside one of `namespaces`. */
export async function processesInNamespaces(namespaces: ReadonlySet<string>): Promise<number[]> {
  const hits: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ns = await readlink(`/proc/${entry}/ns/pid`);
      if (!namespaces.has(ns)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z") hits.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return hits;
}

/** stdout texts of a run, joined by newlines. */
export function stdout(lines: ReadonlyArray<{ stream: string; text: string }>): string {
  return lines.filter((l) => l.stream === "stdout").map((l) => l.text).join("\n");
}

export function stderr(lines: ReadonlyArray<{ stream: string; text: string }>): string {
  return lines.filter((l) => l.stream === "stderr").map((l) => l.text).join("\n");
}
