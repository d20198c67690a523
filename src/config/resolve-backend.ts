import type { BackendKind } from "./option-rules.js";
import type { LoadedConfig } from "./types.js";

/**
 * Which backend runs a sandbox: the call's `backend` option (or `--backend`) > the sandbox's
 * `backend` in microsandbox.toml > `[defaults] backend` > `[server] backend` > "rpc".
 * The resolved sandbox config and the volume checks are the same for every backend.
 */
export function resolveBackend(call: { backend?: BackendKind }, file: LoadedConfig | undefined, sandbox: string | undefined): BackendKind {
  return (
    call.backend ?? (sandbox !== undefined ? file?.sandboxes[sandbox]?.backend : undefined) ?? file?.defaults.backend ?? file?.server.backend ?? "rpc"
  );
}
