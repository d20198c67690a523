import { InvalidOptionError } from "../../errors/index.js";
import { checkEnvEntry, checkPort } from "../../config/option-rules.js";
import { mountOrder } from "../../volumes/index.js";
import type { ResolvedVolume } from "../../volumes/types.js";
import type { SandboxSpec } from "../sandbox-spec.js";
import { embeddedImage } from "./images.js";
import type { EmbeddedSdk } from "./sdk.js";

export type EmbeddedBuilder = ReturnType<EmbeddedSdk["Sandbox"]["builder"]>;
type MountBuilder = InstanceType<EmbeddedSdk["MountBuilder"]>;

/**
 * How every bind mount is configured (see README "Real microVMs: the embedded backend"):
 * - hostPermissions "mirror": regular files and folders the VM writes get the guest's rwx bits on
 *   the host plus an owner floor (0600 / 0700), set-id bits stripped, owned by the user running the
 *   addon, so host tools can read and run them (the runtime default "private" makes every file
 *   0600/0700).
 * - statVirtualization "strict" (the runtime default, stated explicitly): the guest's uid/gid and
 *   file type live in a user.* xattr, so on Linux a symlink, FIFO, socket or device node made in
 *   the VM is a plain regular file on the host (a symlink's holds its target path). The VM cannot
 *   plant a real host symlink that host tools follow ("relaxed" would create real ones).
 */
export const MOUNT_POLICY = { hostPermissions: "mirror", statVirtualization: "strict" } as const;

/** Label that marks sandboxes this package created. */
export const MANAGED_LABEL = { key: "managed-by", value: "microsandbox-volumes" } as const;

export function configureMount(mount: MountBuilder, volume: ResolvedVolume): MountBuilder {
  let m = mount.bind(volume.host).hostPermissions(MOUNT_POLICY.hostPermissions).statVirtualization(MOUNT_POLICY.statVirtualization);
  if (volume.readonly) m = m.readonly();
  return m;
}

/** `"8080:80"` → [8080, 80]; `"3000"` → [3000, 3000]. The config layer validated it; checked again because this is a trust boundary. */
export function parsePort(port: string): [host: number, guest: number] {
  const problem = checkPort(port);
  if (problem) throw new InvalidOptionError(problem, { details: { port } });
  const [host, guest = host] = port.split(":");
  return [Number(host), Number(guest)];
}

/** `"K=V"` → ["K", "V"] (the value may hold further "="). */
export function parseEnv(entry: string): [name: string, value: string] {
  const problem = checkEnvEntry(entry);
  if (problem) throw new InvalidOptionError(problem, { details: { env: entry.split("=")[0] } });
  const eq = entry.indexOf("=");
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

/**
 * Applies one SandboxSpec to a fresh SDK builder: the embedded backend's only conversion of the spec. `exec` (the legacy Sandboxfile's
 * default process) has no counterpart: commands run through `command.run`, the VM's PID 1 is the
 * runtime's agent. Nothing here touches the runtime: `build()` on the result is a dry run.
 */
export function applyConfig(builder: EmbeddedBuilder, config: SandboxSpec): EmbeddedBuilder {
  let b = builder
    .image(embeddedImage(config.image))
    .memory(config.memory)
    .cpus(config.cpus)
    // Sandboxes outlive the process that started them (the legacy server kept them too):
    // `msbv up` in one process, `msbv exec` in the next.
    .detached(true)
    .label(MANAGED_LABEL.key, MANAGED_LABEL.value);
  for (const entry of config.envs) b = b.env(...parseEnv(entry));
  if (config.workdir !== undefined) b = b.workdir(config.workdir);
  if (config.shell !== undefined) b = b.shell(config.shell);
  if (config.scripts && Object.keys(config.scripts).length > 0) b = b.scripts(config.scripts);
  for (const port of config.ports) b = b.port(...parsePort(port));
  // Parents before nested guest paths (the seam's contract: volumes arrive in any order).
  for (const volume of mountOrder(config.volumes)) b = b.volume(volume.guest, (m: MountBuilder) => configureMount(m, volume));
  return b;
}

/** The part of a mount that must match for a running sandbox to be reused. */
export interface MountKey {
  host: string;
  guest: string;
  readonly: boolean;
}

export function volumeKeys(volumes: readonly ResolvedVolume[]): MountKey[] {
  return volumes.map((v) => ({ host: v.host, guest: v.guest, readonly: v.readonly })).sort(compareKeys);
}

/** Reads the bind mounts out of a SandboxConfig (the JSON `build()` and `config()` return). */
export function mountKeysOf(config: Record<string, unknown>): MountKey[] {
  const mounts = Array.isArray(config.mounts) ? (config.mounts as unknown[]) : [];
  const keys: MountKey[] = [];
  for (const mount of mounts) {
    if (typeof mount !== "object" || mount === null) continue;
    const m = mount as { type?: unknown; host?: unknown; guest?: unknown; options?: { readonly?: unknown } };
    if (m.type !== "Bind" || typeof m.host !== "string" || typeof m.guest !== "string") continue;
    keys.push({ host: m.host, guest: m.guest, readonly: m.options?.readonly === true });
  }
  return keys.sort(compareKeys);
}

export function sameMounts(a: readonly MountKey[], b: readonly MountKey[]): boolean {
  return a.length === b.length && a.every((k, i) => k.host === b[i]?.host && k.guest === b[i]?.guest && k.readonly === b[i]?.readonly);
}

function compareKeys(a: MountKey, b: MountKey): number {
  return a.guest < b.guest ? -1 : a.guest > b.guest ? 1 : 0;
}
