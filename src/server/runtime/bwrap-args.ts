import { lstat, readdir, readlink } from "node:fs/promises";
import * as path from "node:path";
import type { RuntimeVolume } from "./types.js";

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

export interface BwrapPlan {
  name: string;
  layout: HostLayout;
  /** Host dir holding passwd, group and hosts. */
  etcDir: string;
  /** Host dir bound read-write at /home. */
  homeDir: string;
  /** Keep the host's network namespace (`--share-net`); default: none (no interfaces at all). */
  network?: boolean;
  /**
   * Persistent host dir used as the writable root (a microVM's rw layer); without it the root is an
   * empty tmpfs made read-only after setup. Repair it with root-layer.ts before every start.
   */
  rootDir?: string;
  /** Host dir bound read-write at /.sandbox. */
  dotSandboxDir: string;
  /** Interpreter prefixes outside /usr, bound read-only at the same path. */
  extraRoDirs: string[];
  volumes: RuntimeVolume[];
  env: Array<[string, string]>;
  /** Command aliases (`python` -> python3) made as symlinks in `binLinkDir`, read-only like the root. */
  binLinks?: ReadonlyArray<{ name: string; target: string }>;
  binLinkDir?: string;
  /** Absolute guest working directory (the supervisor creates it when it lies in a writable area). */
  workdir: string;
  /** The sandbox's main process (the supervisor), run with `--` after the options. */
  command: string[];
}

/**
 * The bubblewrap command line for one sandbox: the persistent writable root (`rootDir`, else an
 * empty tmpfs made read-only), read-only system dirs, a minimal /etc, private /proc /dev /tmp,
 * every namespace unshared (no network unless `network`, own PIDs), no capabilities, and the
 * sandbox's writable area plus its volumes bound read-write.
 */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const args = [
    "--unshare-all",
    ...(plan.network ? ["--share-net"] : []),
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--hostname",
    plan.name,
    ...(plan.rootDir ? ["--bind", plan.rootDir, "/"] : ["--tmpfs", "/"]),
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const [entry, target] of Object.entries(plan.layout.rootSymlinks)) args.push("--symlink", target, entry);
  for (const dir of plan.layout.rootDirs) args.push("--ro-bind", dir, dir);
  args.push("--dir", "/etc");
  for (const entry of plan.layout.etcEntries) args.push("--ro-bind", entry, entry);
  for (const file of ["passwd", "group", "hosts"]) args.push("--ro-bind", path.join(plan.etcDir, file), `/etc/${file}`);
  // With the host network, name lookups need the host's resolver settings (nothing else of /etc).
  if (plan.network) args.push("--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf");
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--dir", "/root");
  for (const dir of plan.extraRoDirs) args.push("--ro-bind", dir, dir);
  if (plan.binLinks?.length && plan.binLinkDir) {
    // 0755 so a sandbox running as a non-root uid can still traverse the folders bwrap creates.
    for (const dir of ancestors(plan.binLinkDir)) args.push("--perms", "0755", "--dir", dir);
    for (const link of plan.binLinks) args.push("--symlink", link.target, path.posix.join(plan.binLinkDir, link.name));
  }
  args.push("--bind", plan.homeDir, "/home", "--bind", plan.dotSandboxDir, "/.sandbox");
  // Parents before children, so a volume nested under another lands on top of it.
  const volumes = [...plan.volumes].sort((a, b) => depth(a.guest) - depth(b.guest));
  for (const volume of volumes) args.push("--bind", volume.host, volume.guest);
  // The root tmpfs becomes read-only below, so a workdir that would live on it is created now.
  const writable = ["/home", "/tmp", "/var/tmp", "/.sandbox", ...plan.volumes.map((v) => v.guest)];
  if (!writable.some((dir) => plan.workdir === dir || plan.workdir.startsWith(`${dir}/`))) args.push("--dir", plan.workdir);
  // Without a persistent root: read-only, so /etc, /root and everything not mounted writable stay as set up.
  if (!plan.rootDir) args.push("--remount-ro", "/");
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

function depth(p: string): number {
  return p.split("/").filter(Boolean).length;
}
