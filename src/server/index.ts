// Public `./server` entry: the local dev server speaking the legacy microsandbox JSON-RPC API.
export { startDevServer, type DevServerOptions, type DevServerHandle } from "./dev-server.js";
export type { ReceivedRequest, ReceivedLog } from "./received-log.js";
export { mintApiKey, parseKeygenDuration, type MintApiKeyOptions } from "./keygen.js";
export { readOrCreateServerKey, serverKeyPath } from "./server-key.js";
export type { SandboxRuntime, RuntimeSandboxSpec, RuntimeVolume, RuntimeMetrics, RuntimeOutputLine } from "./runtime/types.js";
