import type { SandboxBackend } from "../backend/backend.js";
import type { BackendKind } from "../config/option-rules.js";
import type { SandboxCallOptions } from "../config/types.js";
import type { VolumeSpec } from "../volumes/types.js";

import type { SharedFilesystemMapping } from "../backend/shared-filesystem.js";
export type { SharedFilesystemMapping } from "../backend/shared-filesystem.js";

/**
 * Options of `PythonSandbox.create()` / `NodeSandbox.create()` / the constructors: the upstream
 * `SandboxOptions` fields (all honoured, including `volumes`, which upstream silently dropped)
 * plus this package's additions. Call options beat `MSB_*` env vars, which beat `microsandbox.toml`.
 */
export interface SandboxOptions extends Omit<SandboxCallOptions, "backend"> {
  /**
   * Declares that a remote server sees this machine's files (e.g. NFS), mapping host prefixes to
   * server prefixes. Overrides `[server] shared_filesystem`. Without it, host-path volumes against
   * a server on another machine are refused.
   */
  sharedFilesystem?: SharedFilesystemMapping[];
  /**
   * Sync mode: copy the volumes' host folders into the sandbox after start and the changes back in
   * `stop()` (through the server's command API), instead of mounting them. Works with servers on
   * other machines. Overrides `[server] mode`; `false` forces mounting.
   */
  sync?: boolean;
  /** Aborts create/start (and nothing else). */
  signal?: AbortSignal;
  /** HTTP time limit of the start call in ms. Default: (`timeout` + 30 s). */
  timeoutMs?: number;
  /**
   * `"embedded"`: real microVMs through npm `microsandbox` 0.6 in this process (needs KVM);
   * `"rpc"`: the JSON-RPC server or `msbv dev-server`. Default: `backend` in microsandbox.toml,
   * then "rpc". A SandboxBackend object replaces the runtime altogether (tests).
   */
  backend?: SandboxBackend | BackendKind;
}

/** Fluent builder for {@link SandboxOptions}; method names match the option names (upstream style). */
export class SandboxOptionsBuilder {
  readonly #options: SandboxOptions = {};

  serverUrl(serverUrl: string): this {
    return this.#set("serverUrl", serverUrl);
  }
  name(name: string): this {
    return this.#set("name", name);
  }
  apiKey(apiKey: string): this {
    return this.#set("apiKey", apiKey);
  }
  image(image: string): this {
    return this.#set("image", image);
  }
  memory(memory: number): this {
    return this.#set("memory", memory);
  }
  cpus(cpus: number): this {
    return this.#set("cpus", cpus);
  }
  volumes(volumes: VolumeSpec[]): this {
    return this.#set("volumes", volumes);
  }
  ports(ports: string[]): this {
    return this.#set("ports", ports);
  }
  envs(envs: string[]): this {
    return this.#set("envs", envs);
  }
  dependsOn(dependsOn: string[]): this {
    return this.#set("dependsOn", dependsOn);
  }
  workdir(workdir: string): this {
    return this.#set("workdir", workdir);
  }
  shell(shell: string): this {
    return this.#set("shell", shell);
  }
  scripts(scripts: Record<string, string>): this {
    return this.#set("scripts", scripts);
  }
  exec(exec: string): this {
    return this.#set("exec", exec);
  }
  timeout(timeout: number): this {
    return this.#set("timeout", timeout);
  }
  configPath(configPath: string): this {
    return this.#set("configPath", configPath);
  }
  sharedFilesystem(mappings: SharedFilesystemMapping[]): this {
    return this.#set("sharedFilesystem", mappings);
  }
  sync(enabled = true): this {
    return this.#set("sync", enabled);
  }
  signal(signal: AbortSignal): this {
    return this.#set("signal", signal);
  }
  timeoutMs(timeoutMs: number): this {
    return this.#set("timeoutMs", timeoutMs);
  }
  backend(backend: SandboxBackend | BackendKind): this {
    return this.#set("backend", backend);
  }

  /** A copy of the options set so far. */
  build(): SandboxOptions {
    return { ...this.#options };
  }

  #set<K extends keyof SandboxOptions>(key: K, value: SandboxOptions[K]): this {
    this.#options[key] = value;
    return this;
  }
}

// Interface + namespace merge, as upstream: `SandboxOptions` is both the type and `SandboxOptions.builder()`.
// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace SandboxOptions {
  /** Starts a fluent {@link SandboxOptionsBuilder}. */
  export function builder(): SandboxOptionsBuilder {
    return new SandboxOptionsBuilder();
  }
}
