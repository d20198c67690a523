import { posix } from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { HostPathError } from "../errors/errors.js";
import type { ResolvedVolume } from "../volumes/types.js";

/** Host prefix → server prefix, for servers that see this machine's files through a shared filesystem. */
export interface SharedFilesystemMapping {
  hostPrefix: string;
  serverPrefix: string;
}

const WAYS_OUT =
  "either declare a shared filesystem (`[server] shared_filesystem` in microsandbox.toml or the " +
  "`sharedFilesystem` option, mapping host prefixes to the server's paths) or use sync mode " +
  '(`mode = "sync"` in `[server]` or the `sync: true` option: the folders are copied in at start and back at stop), or point MSB_SERVER_URL at a server on this machine';

/**
 * The legacy server resolves volume paths on its own filesystem, so host paths only mean something
 * if the server runs here or sees our files through a shared filesystem. Returns the volumes as the
 * server must see them (mapped through the shared filesystem), or refuses (MSBV_REMOTE_HOST_PATHS).
 */
export function volumesForServer(
  volumes: readonly ResolvedVolume[],
  localHostPaths: boolean,
  serverUrl: string,
  shared: readonly SharedFilesystemMapping[] | undefined,
): ResolvedVolume[] {
  if (localHostPaths || volumes.length === 0) return [...volumes];
  if (!shared || shared.length === 0) {
    throw new HostPathError(
      ErrorCodes.REMOTE_HOST_PATHS,
      `Refusing to send host-path volumes (${volumes.map((v) => `${v.host}:${v.guest}`).join(", ")}) to ${serverUrl}: ` +
        "that server is not on this machine and would mount its own folders of the same name",
      { hint: WAYS_OUT, details: { serverUrl, volumes: volumes.map((v) => v.host) } },
    );
  }
  // Longest prefix first, so nested mappings win over their parents.
  const mappings = [...shared]
    .map((m) => ({ host: trimSlash(m.hostPrefix), server: trimSlash(m.serverPrefix) }))
    .sort((a, b) => b.host.length - a.host.length);
  return volumes.map((v) => {
    const m = mappings.find((mp) => v.host === mp.host || v.host.startsWith(`${mp.host}/`) || mp.host === "");
    if (!m) {
      throw new HostPathError(
        ErrorCodes.REMOTE_HOST_PATHS,
        `Volume host path ${v.host} is not under any shared filesystem prefix (${mappings.map((mp) => mp.host || "/").join(", ")}) declared for ${serverUrl}`,
        { hint: `add a sharedFilesystem mapping that covers ${v.host}, or ${WAYS_OUT}`, details: { host: v.host } },
      );
    }
    return { ...v, host: posix.join(m.server || "/", v.host.slice(m.host.length)) };
  });
}

function trimSlash(p: string): string {
  return p.replace(/\/+$/, "");
}
