// The dev server's sandbox runtime: each sandbox is one bubblewrap process tree.
//
// Layout inside a sandbox: an empty tmpfs root made read-only after setup, /usr and the /bin,
// /lib* links bound read-only, a minimal /etc (loader cache, CA certs, time zone, a tiny
// passwd/group/hosts), private /proc, /dev, /tmp and /var/tmp, every namespace unshared (no
// network, own PIDs), no capabilities. Writable: /home and /.sandbox (the per-sandbox area
// stateDir/<name>/rw, kept across stop/start like upstream's rw layer) and the volumes.
//
// The sandbox's main process is a small Node supervisor; REPLs and commands are its children,
// so they all share one set of mounts, one /tmp and one PID namespace, and killing bubblewrap's
// init takes down everything. See supervisor-script.ts for why this beats a bwrap per command.
export { createBwrapRuntime, type BwrapRuntimeOptions } from "./bwrap-runtime.js";
export { findBwrap } from "./find-bwrap.js";
export { imageToLanguage, supportedImages, type RuntimeLanguage } from "./images.js";
export type {
  RuntimeMetrics,
  RuntimeOutputLine,
  RuntimeSandboxSpec,
  RuntimeVolume,
  SandboxRuntime,
} from "./types.js";
