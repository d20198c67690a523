import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { createBwrapRuntime } from "../../src/server/runtime/index.js";
import type { RuntimeSandboxSpec, SandboxRuntime } from "../../src/server/runtime/types.js";
import { tempDir } from "./temp-dir.js";
export { processesMentioning, pidNamespaces, processesInNamespaces, sandboxProcessesMentioning } from "./processes.js";

/** A runtime over a fresh temp state dir plus a workspace dir; `dispose` stops and deletes all. */
export interface RuntimeFixture extends AsyncDisposable {
  root: string;
  stateDir: string;
  runtime: SandboxRuntime;
  /** A new empty host directory under the fixture root. */
  newDir(label: string): Promise<string>;
  spec(name: string, overrides?: Partial<RuntimeSandboxSpec>): RuntimeSandboxSpec;
  dispose(): Promise<void>;
}

/** `poolSize`: pre-started sandboxes per image (src/server/runtime/pool); default the runtime's own. */
export async function createRuntimeFixture(options: { poolSize?: number } = {}): Promise<RuntimeFixture> {
  const temp = await tempDir("msbv-runtime-");
  const root = temp.path;
  const stateDir = path.join(root, "state");
  const runtime = createBwrapRuntime({ stateDir, ...options });
  let counter = 0;
  const dispose = async () => {
    try {
      await runtime.shutdown();
    } finally {
      await temp.remove();
    }
  };
  return {
    root,
    stateDir,
    runtime,
    async newDir(label) {
      const dir = path.join(root, `${label}-${counter++}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    spec: (name, overrides = {}) => ({ name, image: "microsandbox/python", volumes: [], envs: [], ...overrides }),
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

/** stdout texts of a run, joined by newlines. */
export function stdout(lines: ReadonlyArray<{ stream: string; text: string }>): string {
  return lines
    .filter((l) => l.stream === "stdout")
    .map((l) => l.text)
    .join("\n");
}

export function stderr(lines: ReadonlyArray<{ stream: string; text: string }>): string {
  return lines
    .filter((l) => l.stream === "stderr")
    .map((l) => l.text)
    .join("\n");
}
