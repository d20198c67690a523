import type { WireStartConfig } from "../backend/wire.js";
import { toVolumeString } from "../volumes/index.js";
import type { ResolvedSandboxConfig } from "./types.js";

/**
 * `sandbox.start` params.config for a resolved sandbox. `image` is always present (the server ignores
 * a config without it, docs/protocol.md#sandbox-start); empty lists are omitted, never null (Gen A answers null with 400);
 * `dependsOn` becomes `depends_on`.
 */
export function toWireStartConfig(sandbox: ResolvedSandboxConfig): WireStartConfig {
  const wire: WireStartConfig = { image: sandbox.image, memory: sandbox.memory, cpus: sandbox.cpus };
  if (sandbox.volumes.length > 0) wire.volumes = sandbox.volumes.map(toVolumeString);
  if (sandbox.ports.length > 0) wire.ports = [...sandbox.ports];
  if (sandbox.envs.length > 0) wire.envs = [...sandbox.envs];
  if (sandbox.dependsOn.length > 0) wire.depends_on = [...sandbox.dependsOn];
  if (sandbox.workdir !== undefined) wire.workdir = sandbox.workdir;
  if (sandbox.shell !== undefined) wire.shell = sandbox.shell;
  if (sandbox.scripts !== undefined && Object.keys(sandbox.scripts).length > 0) wire.scripts = { ...sandbox.scripts };
  if (sandbox.exec !== undefined) wire.exec = sandbox.exec;
  return wire;
}
