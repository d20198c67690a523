// The dev server's sandbox runtime: each sandbox is one bubblewrap process tree.
//
// Layout inside a sandbox: a writable root (stateDir/<name>/rw/root, repaired by root-layer.ts
// before each start), /usr and the /bin, /lib* links bound read-only, a minimal /etc (loader
// cache, CA certs, time zone, a tiny passwd/group/hosts, all read-only), private /proc, /dev, /tmp
// and /var/tmp, every namespace unshared (no network unless the server allows it, own PIDs), no
// capabilities. The root, /home and /.sandbox (stateDir/<name>/rw) are kept across stop/start
// like upstream's rw layer; the volumes are bound read-write.
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
