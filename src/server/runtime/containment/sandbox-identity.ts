// Which host uid/gid a sandbox runs as (see docs/security.md, "Which uid").
//
// Server as root: every sandbox gets its own unprivileged host uid (= gid) drawn at random from a
// high range that no distribution hands out (Debian: users < 60000, systemd dynamic users
// 61184-65519, subordinate ranges for rootless containers start at 100000 and are sized 65536).
// Per sandbox, not per server, so RLIMIT_NPROC (counted per real uid on the whole host) bounds one
// sandbox, and no two sandboxes share an owner for signals, ptrace or /proc access checks.
// Random rather than sequential so two dev servers on one host practically never collide
// (2^24 values); within one server the allocator never hands out a uid still in use.
// Inside the sandbox it is uid 0 (bubblewrap's --unshare-user --uid 0 --gid 0).
//
// Server as an ordinary user: bubblewrap can only map the caller's own uid, so the sandbox runs as
// the server's user (uid 0 inside), exactly as unprivileged bubblewrap does.

export const DEDICATED_UID_BASE = 2_100_000_000;
export const DEDICATED_UID_SPAN = 1 << 24;

export interface SandboxIdentity {
  uid: number;
  gid: number;
  /** `dedicated`: a fresh unprivileged uid (server is root); `server-user`: the server's own uid. */
  kind: "dedicated" | "server-user";
  /** Gives the uid back to the allocator once nothing of the sandbox is left. */
  release(): void;
}

const inUse = new Set<number>();

/** True when the dev server runs with host root's uid (the launcher and idmapped mounts are used). */
export function serverIsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

export function allocateIdentity(random: () => number = Math.random): SandboxIdentity {
  if (!serverIsRoot()) {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    return { uid, gid, kind: "server-user", release: () => undefined };
  }
  let uid: number;
  do uid = DEDICATED_UID_BASE + Math.floor(random() * DEDICATED_UID_SPAN);
  while (inUse.has(uid));
  inUse.add(uid);
  return { uid, gid: uid, kind: "dedicated", release: () => inUse.delete(uid) };
}
