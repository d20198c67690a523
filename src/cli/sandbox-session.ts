import { Option } from "commander";
import { NodeSandbox, PythonSandbox } from "../client/index.js";
import { BACKEND_KINDS, type BackendKind } from "../config/index.js";
import { withProgress } from "./output.js";
import { declaredSandbox, type SandboxTarget } from "./target.js";

/** A started (or already running) sandbox of either kind. */
export type AnySandbox = PythonSandbox | NodeSandbox;

/**
 * Starts a declared sandbox through the public client, exactly as user code would: config file,
 * env and guards apply. Starting a sandbox that is already running leaves it running, so `run` and
 * `exec` use this too. The CLI never stops it afterwards: that is `msbv stop`.
 */
export function startDeclared(target: SandboxTarget, backend?: BackendKind): Promise<AnySandbox> {
  const options = { name: target.name, configPath: target.config.path, ...(backend !== undefined ? { backend } : {}) };
  return target.kind === "node" ? NodeSandbox.create(options) : PythonSandbox.create(options);
}

/**
 * `run` and `exec`: start the declared sandbox if needed (a no-op start when it already runs), with a
 * spinner only on a terminal. Quiet otherwise, because stderr then carries the sandbox's own stderr.
 */
export async function ensureDeclaredRunning(name: string | undefined, backend?: BackendKind): Promise<AnySandbox> {
  const target = await declaredSandbox(name);
  return withProgress(
    `starting sandbox ${target.name}`,
    () => startDeclared(target, backend),
    (sb) => `sandbox ${sb.name} is running`,
    {
      quiet: true,
    },
  );
}

/** `--backend <kind>` of the commands that start sandboxes (up, run, exec); beats `backend` in microsandbox.toml. */
export function backendOption(): Option {
  return new Option("--backend <kind>", 'where the sandbox runs: "embedded" (real microVMs, needs KVM) or "rpc" (server / msbv dev-server)').choices(
    BACKEND_KINDS,
  );
}
