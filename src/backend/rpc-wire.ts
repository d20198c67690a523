import { ErrorCodes } from "../errors/codes.js";
import { ValidationError } from "../errors/errors.js";
import { toVolumeString } from "../volumes/resolve.js";
import type { SandboxSpec } from "./sandbox-spec.js";
import type { WireStartConfig } from "./wire.js";

/**
 * `sandbox.start` params.config for a sandbox spec (volumes already mapped for the server). `image`
 * is always present (the server ignores a config without it); empty lists are omitted, never null
 * (Gen A answers null with 400); `dependsOn` becomes `depends_on`. Read-only volumes travel as
 * `readonly_volumes` (guest paths) and only when the server advertised them: a legacy server would
 * mount them read-write, and `:ro` in the string would make it mount a folder named `guest:ro`.
 */
export function toWireStartConfig(spec: SandboxSpec, opts: { readonlyVolumes: boolean } = { readonlyVolumes: false }): WireStartConfig {
  const wire: WireStartConfig = { image: spec.image, memory: spec.memory, cpus: spec.cpus };
  if (spec.volumes.length > 0) wire.volumes = spec.volumes.map(toVolumeString);
  const readonly = spec.volumes.filter((v) => v.readonly).map((v) => v.guest);
  if (readonly.length > 0) {
    if (!opts.readonlyVolumes) {
      throw new ValidationError(
        ErrorCodes.READONLY_UNSUPPORTED,
        `readonly volumes (${readonly.join(", ")}) cannot be sent: the server does not advertise read-only mounts`,
        { hint: "use the msbv dev server (msbv dev-server), which enforces it, or drop readonly" },
      );
    }
    wire.readonly_volumes = readonly;
  }
  if (spec.ports.length > 0) wire.ports = [...spec.ports];
  if (spec.envs.length > 0) wire.envs = [...spec.envs];
  if (spec.dependsOn.length > 0) wire.depends_on = [...spec.dependsOn];
  if (spec.workdir !== undefined) wire.workdir = spec.workdir;
  if (spec.shell !== undefined) wire.shell = spec.shell;
  if (spec.scripts !== undefined && Object.keys(spec.scripts).length > 0) wire.scripts = { ...spec.scripts };
  if (spec.exec !== undefined) wire.exec = spec.exec;
  return wire;
}
