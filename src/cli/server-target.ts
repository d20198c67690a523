import { RpcBackend } from "../backend/rpc-backend.js";
import { resolveServer } from "../config/index.js";
import type { LoadedConfig } from "../config/types.js";

/** Where the server-wide commands (status, stop, doctor) talk to. */
export interface ServerTarget {
  url: string;
  /** Never printed; only whether one is set and where it came from. */
  apiKey: string | undefined;
  /** `MSB_API_KEY` or the env var the file names in `api_key_env`. */
  apiKeySource: string | undefined;
}

/** The server without a sandbox, by the config layer's precedence (flag/env > file > default). */
export function serverTarget(config: LoadedConfig | undefined, env: NodeJS.ProcessEnv = process.env): ServerTarget {
  const server = resolveServer({}, env, config);
  const apiKeySource = server.apiKey === undefined ? undefined : env.MSB_API_KEY ? "MSB_API_KEY" : config?.server.apiKeyEnv;
  return { url: server.url, apiKey: server.apiKey, apiKeySource };
}

/** The JSON-RPC backend for a server target. */
export function backendFor(target: ServerTarget): RpcBackend {
  return new RpcBackend({ url: target.url, ...(target.apiKey ? { apiKey: target.apiKey } : {}) });
}
