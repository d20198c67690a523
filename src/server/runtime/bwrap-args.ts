import { lstat, readdir, readlink } from "node:fs/promises";
import * as path from "node:path";
import { mountOrder } from "../../volumes/guest-paths.js";

/** What of the host's root layout exists, probed once per runtime. */
export interface HostLayout {
  /** Top-level entries such as /bin or /lib64 that are symlinks (target as written, e.g. `usr/bin`). */
  rootSymlinks: Record<string, string>;
  /** Top-level entries such as /lib64 that are real directories and get bound read-only. */
  rootDirs: string[];
  /** /etc entries that exist and are bound read-only (everything else of /etc stays hidden). */
  etcEntries: string[];
}

const ROOT_ENTRIES = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

// Only what dynamic linking, TLS, time zones and Debian's python need. Not /etc/ssl as a whole:
// it holds /etc/ssl/private, and sandboxed code runs as the server's uid.
const ETC_CANDIDATES = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/ssl/certs",
  "/etc/ssl/openssl.cnf",
  "/etc/ca-certificates",
  "/etc/alternatives",
  "/etc/localtime",
  "/etc/timezone",
  "/etc/nsswitch.conf",
];

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Probes the host root and /etc for {@link buildBwrapArgs}. */
export async function probeHostLayout(): Promise<HostLayout> {
  const rootSymlinks: Record<string, string> = {};
  const rootDirs: string[] = [];
  for (const entry of ROOT_ENTRIES) {
    try {
      const info = await lstat(entry);
      if (info.isSymbolicLink()) rootSymlinks[entry] = await readlink(entry);
      else if (info.isDirectory()) rootDirs.push(entry);
    } catch {
      // absent on this host
    }
  }
  const etcEntries: string[] = [];
  for (const entry of ETC_CANDIDATES) if (await exists(entry)) etcEntries.push(entry);
  try {
    for (const name of await readdir("/etc")) {
      if (/^python3(\.\d+)?$/.test(name)) etcEntries.push(`/etc/${name}`);
    }
  } catch {
    // no /etc listing: keep what we have
  }
  return { rootSymlinks, rootDirs, etcEntries };
}

/** A host folder already open in bubblewrap's descriptor table, mounted by that descriptor. */
export interface FdBind {
  fd: number;
  guest: string;
  readonly: boolean;
}

export interface BwrapPlan {
  name: string;
  layout: HostLayout;
  /** Descriptors holding the minimal /etc files (passwd, group, hosts), copied in by bubblewrap. */
  etcFiles: Array<{ fd: number; guest: string }>;
  /** Descriptor of the seccomp program (see containment/seccomp-filter.ts). */
  seccompFd: number;
  /** Keep the host's network namespace (`--share-net`); default: none (no interfaces at all). */
  network?: boolean;
  /**
   * The persistent writable root (a microVM's rw layer, `<state>/<name>/rw/root`) bound at `/`;
   * without it the root is an empty tmpfs made read-only after setup. Repaired by root-layer.ts
   * before every start (containment/launch.ts does it on the opened descriptor).
   */
  root?: FdBind;
  /** Bound at /home (the sandbox's persistent area). */
  home: FdBind;
  /** Bound at /.sandbox. */
  dotSandbox: FdBind;
  /** Interpreter prefixes outside /usr, bound read-only at the same path. */
  extraRoDirs: string[];
  volumes: FdBind[];
  env: Array<[string, string]>;
  /** Command aliases (`python` -> python3) made as symlinks in `binLinkDir` on the root at each start. */
  binLinks?: ReadonlyArray<{ name: string; target: string }>;
  binLinkDir?: string;
  /** Size in bytes of each private tmpfs (/tmp, /var/tmp, /dev/shm); see containment/limits.ts. */
  tmpfsBytes: number;
  /**
   * Absolute guest working directory (the supervisor creates it when it lies in a writable area).
   * Absent for a pooled start, whose supervisor makes it when the sandbox is claimed.
   */
  workdir?: string;
  /** The sandbox's main process (the supervisor), run with `--` after the options. */
  command: string[];
}

/**
 * The bubblewrap command line for one sandbox: the persistent writable root (`root`, else an
 * empty tmpfs made read-only), read-only system dirs, a minimal /etc, private /proc /dev /tmp,
 * every namespace unshared (no network unless `network`, own PIDs), no capabilities, and the
 * sandbox's writable area plus its volumes bound by descriptor. Uid 0 inside is an unprivileged
 * host uid (its own user namespace, no nested ones), and the seccomp filter keeps set-id bits off
 * every file (see docs/security.md).
 */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const args = [
    "--unshare-all",
    ...(plan.network ? ["--share-net"] : []),
    "--unshare-user",
    "--disable-userns",
    "--uid",
    "0",
    "--gid",
    "0",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--hostname",
    plan.name,
    ...(plan.root ? ["--bind-fd", String(plan.root.fd), "/"] : ["--tmpfs", "/"]),
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const [entry, target] of Object.entries(plan.layout.rootSymlinks)) args.push("--symlink", target, entry);
  for (const dir of plan.layout.rootDirs) args.push("--ro-bind", dir, dir);
  args.push("--dir", "/etc");
  for (const entry of plan.layout.etcEntries) args.push("--ro-bind", entry, entry);
  for (const file of plan.etcFiles) args.push("--ro-bind-data", String(file.fd), file.guest);
  // With the host network, name lookups need the host's resolver settings (nothing else of /etc).
  if (plan.network) args.push("--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf");
  // Sized: tmpfs is RAM (unsized, half the host's per mount). /dev/shm gets its own sized tmpfs, and
  // /dev itself (a tmpfs holding the device binds) is made read-only below.
  const size = String(plan.tmpfsBytes);
  args.push("--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm");
  args.push("--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/var/tmp", "--dir", "/root");
  for (const dir of plan.extraRoDirs) args.push("--ro-bind", dir, dir);
  if (plan.binLinks?.length && plan.binLinkDir) {
    // 0755 so a sandbox running as a non-root uid can still traverse the folders bwrap creates.
    for (const dir of ancestors(plan.binLinkDir)) args.push("--perms", "0755", "--dir", dir);
    for (const link of plan.binLinks) args.push("--symlink", link.target, path.posix.join(plan.binLinkDir, link.name));
  }
  // Parents before children, so a volume nested under another lands on top of it (one ordering rule:
  // src/volumes mountOrder). Read-only volumes use --ro-bind-fd: the kernel refuses writes with EROFS.
  const binds = [plan.home, plan.dotSandbox, ...mountOrder(plan.volumes)];
  for (const bind of binds) args.push(bind.readonly ? "--ro-bind-fd" : "--bind-fd", String(bind.fd), bind.guest);
  // The root tmpfs becomes read-only below, so a workdir that would live on it is created now.
  const writable = ["/home", "/tmp", "/var/tmp", "/.sandbox", ...plan.volumes.map((v) => v.guest)];
  const { workdir } = plan;
  if (workdir !== undefined && !writable.some((dir) => workdir === dir || workdir.startsWith(`${dir}/`))) args.push("--dir", workdir);
  // Without a persistent root: read-only, so /etc, /root and everything not mounted writable stay as
  // set up. /dev is read-only either way.
  if (!plan.root) args.push("--remount-ro", "/");
  args.push("--remount-ro", "/dev");
  args.push("--seccomp", String(plan.seccompFd));
  args.push("--clearenv");
  for (const [key, value] of plan.env) args.push("--setenv", key, value);
  args.push("--chdir", "/", "--", ...plan.command);
  return args;
}

/** "/a/b/c" -> ["/a", "/a/b", "/a/b/c"]. */
function ancestors(dir: string): string[] {
  const parts = dir.split("/").filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}
