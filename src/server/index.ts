/**
 * Public `./server` entry: the local dev server speaking the legacy microsandbox HTTP + JSON-RPC
 * API (routes, auth, error shapes, Sandboxfile semantics of `msbserver`), backed by bubblewrap.
 *
 * Intentional deviations from the legacy server, all in the caller's favour:
 * - image, volume, port and env strings are validated before the Sandboxfile is written (400/2001
 *   naming the string) — upstream writes them unchecked and one bad string breaks every sandbox;
 * - volumes, guest paths and `workdir` are judged by the client's own rules (src/volumes): an options
 *   segment (`/a:/b:ro`), relative or `..` guests, reserved or duplicate guests, host paths outside the
 *   allowed roots (`allowRoots`, default the project dir), denied folders, the server's own state, a
 *   symlink below a root, a missing folder or a file are refused (400) before anything is written;
 *   nested guest paths are allowed (parents mounted first);
 * - read-only volumes: `msbv.capabilities` advertises them and `readonly_volumes` (ignored by a legacy
 *   server) names them; they are bound with `--ro-bind`;
 * - the Sandboxfile is written atomically (temp + rename, no fsync) under an in-process mutex;
 * - no portal-port bookkeeping (`ports` is stored as sent, nothing injected);
 * - `GET /_dev/received` (ours, same auth as the RPC route) lists every `sandbox.start` as received;
 * - 500 bodies keep the legacy `{error, code}` and add `data: {kind, cause?, hint?}` for failures the
 *   request caused (timeout, missing executable, not running, replaced volume folder);
 * - a client that hangs up interrupts its run; a re-attaching start is refused when a volume's host
 *   folder was replaced; the health body says `network: "host"` under `--allow-network`.
 */
export { startDevServer, isLoopback, type DevServerOptions, type DevServerHandle } from "./dev-server.js";
export type { ReceivedRequest, ReceivedLog } from "./state/received-log.js";
export { mintApiKey, parseKeygenDuration, type MintApiKeyOptions } from "./auth/keygen.js";
export { readOrCreateServerKey, serverKeyPath } from "./auth/server-key.js";
export type { SandboxRuntime, RuntimeSandboxSpec, RuntimeVolume, RuntimeMetrics, RuntimeOutputLine } from "./runtime/types.js";
