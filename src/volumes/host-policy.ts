import { homedir } from "node:os";
import * as path from "node:path";
import { expandHome, realpathLongestPrefix, realpathLongestPrefixSync } from "./canonicalize.js";
import { isSameOrInside } from "./guest-paths.js";
import type { HostPathPolicy } from "./types.js";

/** A folder that is never mounted, and why. `exact` entries only refuse themselves (not their subfolders). */
export interface DeniedEntry {
  path: string;
  reason: string;
  exact: boolean;
}

const SYSTEM_DIRS = [
  "/etc",
  "/proc",
  "/sys",
  "/dev",
  "/boot",
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/var/run",
  "/run",
  "/var/lib/docker",
  "/var/lib/containerd",
  "/var/lib/kubelet",
];
const CREDENTIAL_DIRS = [
  ".ssh",
  ".aws",
  ".gnupg",
  ".config",
  ".kube",
  ".docker",
  ".azure",
  ".gcloud",
  ".password-store",
  ".local/share/keyrings",
  ".terraform.d",
  ".npmrc",
  ".pypirc",
  ".netrc",
  ".git-credentials",
  ".vault-token",
  ".cargo/credentials",
  ".cargo/credentials.toml",
  ".m2/settings.xml",
  ".gradle/gradle.properties",
];
const SOCKETS = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"];

/** The built-in deny list plus `extraDenied`, as written (not yet canonical). */
export function builtinDenied(extraDenied: readonly string[] = [], home = homedir(), microsandboxHome = true): DeniedEntry[] {
  return [
    { path: "/", reason: "the filesystem root", exact: true },
    { path: home, reason: "your home folder itself", exact: true },
    ...SYSTEM_DIRS.map((p) => ({ path: p, reason: "a system folder", exact: false })),
    ...SOCKETS.map((p) => ({ path: p, reason: "a container-engine socket", exact: false })),
    ...CREDENTIAL_DIRS.map((p) => ({ path: path.join(home, p), reason: "a credential folder", exact: false })),
    ...(microsandboxHome ? [{ path: path.join(home, ".microsandbox"), reason: "the microsandbox server's state folder", exact: false }] : []),
    ...extraDenied.map((p) => ({ path: p, reason: "a folder the server refuses to share", exact: false })),
  ];
}

/**
 * Deny entries in both spellings, as written and canonical, because on merged-/usr systems `/lib` is
 * `/usr/lib` and `/var/run` is `/run`, and the check runs on canonical host paths.
 * Read afresh for every check (a symlinked `~/.ssh` may be re-pointed at any time): the read starts
 * after the check asked, in the event loop's next check phase, and every check that asked before it
 * starts shares it (a burst of 50 starts reads the list a few times, not 50). The read itself is
 * synchronous, each parent read once (the twenty credential folders share $HOME), some 130 local
 * system calls; through libuv's thread pool they were as many trips, queued behind the burst's fsyncs.
 */
export function canonicalDenied(extraDenied: readonly string[] = [], opts: { microsandboxHome?: boolean } = {}): Promise<readonly DeniedEntry[]> {
  const entries = builtinDenied(extraDenied, homedir(), opts.microsandboxHome ?? true);
  const key = JSON.stringify(entries);
  let read = nextReads.get(key);
  if (!read) {
    read = new Promise((resolve) => {
      setImmediate(() => {
        nextReads.delete(key);
        resolve(readDenied(entries));
      });
    });
    nextReads.set(key, read);
  }
  return read;
}

/** The read each deny list gets next, shared by the checks that ask before it starts. */
const nextReads = new Map<string, Promise<readonly DeniedEntry[]>>();

function readDenied(entries: readonly DeniedEntry[]): readonly DeniedEntry[] {
  const known = new Map<string, string>();
  const both = entries.flatMap((d) => {
    let canon = d.path;
    try {
      canon = realpathLongestPrefixSync(d.path, known);
    } catch {
      // unreadable or a dangling link: judged as written
    }
    return canon === d.path ? [d] : [d, { ...d, path: canon }];
  });
  return Object.freeze(both.map((d) => Object.freeze(d)));
}

/** Why a canonical host path is refused by the policy, or undefined when it may be mounted. */
export function hostPolicyViolation(
  host: string,
  policy: HostPathPolicy,
  denied: readonly DeniedEntry[],
): { message: string; hint: string } | undefined {
  if (policy.explicitlyAllowed.includes(host)) return undefined;
  const hint =
    `mount a narrower folder inside the project, or allow this exact path: add ${JSON.stringify(host)} to ` +
    "`allow` under [policy] in microsandbox.toml (allow = [...]) or pass it in the allowHostPaths option";
  for (const d of denied) {
    if (d.exact ? host === d.path : isSameOrInside(host, d.path)) {
      return { message: `host path "${host}" is refused: it is ${d.reason} (${d.path})`, hint };
    }
  }
  // Mounting a parent of a denied folder (/, ~, /home) would expose it just the same.
  const inside = denied.find((d) => d.path !== host && isSameOrInside(d.path, host));
  if (inside) {
    return {
      message: `host path "${host}" is refused: it contains ${inside.reason} (${inside.path}), which the sandbox could read and change`,
      hint,
    };
  }
  if (!policy.allowedRoots.some((root) => isSameOrInside(host, root))) {
    return {
      message: `host path "${host}" is outside the allowed roots (${policy.allowedRoots.join(", ") || "none"})`,
      hint,
    };
  }
  return undefined;
}

/**
 * The default policy: relative host paths resolve against `extra.baseDir` (else `projectDir`), only folders
 * inside the canonical project folder are allowed, plus the exact paths in `extra.allow` (canonicalised,
 * `~/` expanded, relative ones against the base folder). An allowed path does not allow its subfolders.
 */
export async function defaultHostPathPolicy(projectDir: string, extra: { allow?: string[]; baseDir?: string } = {}): Promise<HostPathPolicy> {
  const project = await realpathLongestPrefix(path.resolve(expandHome(projectDir)));
  const baseDir = path.resolve(expandHome(extra.baseDir ?? projectDir));
  const explicitlyAllowed: string[] = [];
  for (const a of extra.allow ?? []) {
    explicitlyAllowed.push(await realpathLongestPrefix(path.resolve(baseDir, expandHome(a))));
  }
  return { baseDir, allowedRoots: [project], explicitlyAllowed, extraDenied: [] };
}
