import { lstat, readdir, readlink } from "node:fs/promises";
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
  /** Bound at /home (the sandbox's persistent area). */
  home: FdBind;
  /** Bound at /.sandbox. */
  dotSandbox: FdBind;
  /** Interpreter prefixes outside /usr, bound read-only at the same path. */
  extraRoDirs: string[];
  volumes: FdBind[];
  env: Array<[string, string]>;
  /** Size in bytes of each private tmpfs (/tmp, /var/tmp, /dev/shm); see containment/limits.ts. */
  tmpfsBytes: number;
  /** Absolute guest working directory (the supervisor creates it when it lies in a writable area). */
  workdir: string;
  /** The sandbox's main process (the supervisor), run with `--` after the options. */
  command: string[];
}

/**
 * The bubblewrap command line for one sandbox: an empty tmpfs root, read-only system dirs, a
 * minimal /etc, private /proc /dev /tmp, every namespace unshared (no network, own PIDs), no
 * capabilities, and the sandbox's writable area plus its volumes bound by descriptor. Only /home,
 * /.sandbox, /tmp, /var/tmp and the read-write volumes are writable. Uid 0 inside is an
 * unprivileged host uid (its own user namespace, no nested ones), and the seccomp filter keeps
 * set-id bits off every file (see docs/security.md).
 */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const args = [
    "--unshare-all",
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
    "--tmpfs",
    "/",
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const [entry, target] of Object.entries(plan.layout.rootSymlinks)) args.push("--symlink", target, entry);
  for (const dir of plan.layout.rootDirs) args.push("--ro-bind", dir, dir);
  args.push("--dir", "/etc");
  for (const entry of plan.layout.etcEntries) args.push("--ro-bind", entry, entry);
  for (const file of plan.etcFiles) args.push("--ro-bind-data", String(file.fd), file.guest);
  // Sized: tmpfs is RAM (unsized, half the host's per mount). /dev/shm gets its own sized tmpfs, and
  // /dev itself (a tmpfs holding the device binds) is made read-only below.
  const size = String(plan.tmpfsBytes);
  args.push("--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm");
  args.push("--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/var/tmp", "--dir", "/root");
  for (const dir of plan.extraRoDirs) args.push("--ro-bind", dir, dir);
  // Parents before children, so a volume nested under another lands on top of it (one ordering rule:
  // src/volumes mountOrder). Read-only volumes use --ro-bind-fd: the kernel refuses writes with EROFS.
  const binds = [plan.home, plan.dotSandbox, ...mountOrder(plan.volumes)];
  for (const bind of binds) args.push(bind.readonly ? "--ro-bind-fd" : "--bind-fd", String(bind.fd), bind.guest);
  // The root tmpfs becomes read-only below, so a workdir that would live on it is created now.
  const writable = ["/home", "/tmp", "/var/tmp", "/.sandbox", ...plan.volumes.map((v) => v.guest)];
  if (!writable.some((dir) => plan.workdir === dir || plan.workdir.startsWith(`${dir}/`))) args.push("--dir", plan.workdir);
  // Read-only root: /etc, /root and everything else not mounted writable cannot be changed.
  args.push("--remount-ro", "/", "--remount-ro", "/dev");
  args.push("--seccomp", String(plan.seccompFd));
  args.push("--clearenv");
  for (const [key, value] of plan.env) args.push("--setenv", key, value);
  args.push("--chdir", "/", "--", ...plan.command);
  return args;
}
