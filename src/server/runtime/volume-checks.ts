import { realpath } from "node:fs/promises";
import * as path from "node:path";
import { DevServerError, InvalidOptionError } from "../../errors/index.js";
import { openHostDirNoFollow } from "./containment/open-host-dir.js";
import { assertNoSymlinkBelow, type SandboxDirs } from "./state-dir.js";
import type { RuntimeVolume } from "./types.js";
import { isSameOrInside as isWithin, normalizeGuestPath, reservedGuestReason } from "../../volumes/guest-paths.js";
import { notTextIssue } from "../../volumes/parse-spec.js";

/**
 * Last line of defence before volumes become bind mounts (the HTTP layer applies the full host
 * policy): absolute normalised paths, existing host directories, never the runtime's state dir
 * (or a folder that contains it), no reserved guest path, and no planted symlink on the way to a
 * mount point inside a sandbox-writable area.
 */
export async function checkVolumes(sandbox: string, volumes: readonly RuntimeVolume[], stateDir: string, dirs: SandboxDirs): Promise<void> {
  const realState = await realpath(stateDir);
  const guests = new Set<string>();
  for (const [index, volume] of volumes.entries()) {
    const { host, guest } = volume;
    const bad = (why: string): InvalidOptionError =>
      new InvalidOptionError(`Invalid volume #${index} ("${host}" -> "${guest}") for sandbox "${sandbox}": ${why}.`, {
        hint: "mount an existing host directory at an absolute guest path such as /workspace",
        details: { sandbox, index, host, guest },
      });
    if (!path.isAbsolute(host) || !path.isAbsolute(guest)) throw bad("both paths must be absolute");
    // The volume model's own rule (src/volumes/parse-spec.ts), which the request check applies first;
    // re-applied for callers of the runtime that bypass it. Past here the launcher and the attach
    // helper would each refuse such a path with a misleading message.
    const notText = notTextIssue("host", host) ?? notTextIssue("guest", guest);
    if (notText) throw bad(notText.message);
    if (normalizeGuestPath(guest) !== guest) throw bad("the guest path must be normalised");
    // The one reserved list (src/volumes/guest-paths.ts), the same the client and the HTTP layer apply.
    const reserved = reservedGuestReason(guest);
    if (reserved) throw bad(reserved);
    if (guests.has(guest)) throw bad("another volume already uses this guest path");
    guests.add(guest);
    // Hosts arrive canonical (src/volumes checkHostPath refused every symlink below the allowed root);
    // one may have appeared since, planted by a running sandbox sharing a parent folder. The path is
    // walked one component at a time without following anything (containment/open-host-dir.ts): a
    // symlink anywhere is refused whatever it leads to. Resolving it (realpath, stat) would tell
    // "leads to a folder" from "to a file" or "nowhere", and sandbox.start answers these refusals as a
    // 400, so whoever plants it could probe which host paths outside the allowed roots exist.
    const opened = await openHostDirNoFollow(host, `volume at ${guest} of sandbox "${sandbox}"`);
    await opened.handle.close();
    // No symlink on the way: `host` is its own real path.
    if (isWithin(host, realState) || isWithin(realState, host)) {
      throw new DevServerError(
        `Refusing to mount "${host}" into sandbox "${sandbox}": it is or contains the dev server's sandbox state (${realState}), which no sandbox may write.`,
        {
          hint: "mount a project sub-folder instead, or keep the server's state outside the mounted folder",
          details: { sandbox, host, stateDir: realState },
        },
      );
    }
  }
  // A mount point under /home or under another volume is created by bubblewrap inside a tree the
  // sandbox could write last time; refuse if that tree now holds a symlink on the way.
  for (const { guest } of volumes) {
    const parents: Array<[string, string]> = [
      ["/home", dirs.home],
      ...volumes.filter((v) => v.guest !== guest).map((v): [string, string] => [v.guest, v.host]),
    ];
    const containing = parents.filter(([g]) => isWithin(guest, g) && guest !== g).sort((a, b) => b[0].length - a[0].length)[0];
    if (containing) await assertNoSymlinkBelow(containing[1], containing[0], path.relative(containing[0], guest), `volume at ${guest}`);
  }
}
