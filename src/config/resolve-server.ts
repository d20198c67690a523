import { InvalidOptionError } from "../errors/index.js";
import { checkServerUrl } from "./file-schema.js";
import type { LoadedConfig, ResolvedServerConfig } from "./types.js";

/** Upstream default (docs/protocol.md#client-defaults). */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:5555";

/**
 * Server URL: call > `MSB_SERVER_URL` > `[server] url` > default. API key: call > `MSB_API_KEY` >
 * the env var named by `[server] api_key_env`; an empty variable counts as unset. The key is never
 * echoed in an error.
 */
export function resolveServer(
  call: { serverUrl?: string; apiKey?: string },
  env: NodeJS.ProcessEnv,
  file: LoadedConfig | undefined,
): ResolvedServerConfig {
  const fromEnv = env.MSB_SERVER_URL ? env.MSB_SERVER_URL : undefined;
  const [url, source] =
    call.serverUrl !== undefined
      ? [call.serverUrl, "the serverUrl option"]
      : fromEnv !== undefined
        ? [fromEnv, "MSB_SERVER_URL"]
        : file?.server.url !== undefined
          ? [file.server.url, `[server] url in ${file.path}`]
          : [DEFAULT_SERVER_URL, "the default"];
  const problem = checkServerUrl(url);
  if (problem) {
    throw new InvalidOptionError(`${problem} (from ${source})`, {
      hint: `set ${source} to a URL such as "${DEFAULT_SERVER_URL}"`,
      details: { source },
    });
  }
  const keyEnv = file?.server.apiKeyEnv;
  const apiKey = call.apiKey ?? (env.MSB_API_KEY || undefined) ?? (keyEnv ? env[keyEnv] || undefined : undefined);
  const shared = file?.server.sharedFilesystem;
  return {
    // Callers append paths such as /api/v1/rpc; a trailing slash would double it.
    url: url.replace(/\/+$/, ""),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(shared && shared.length > 0 ? { sharedFilesystem: shared.map((s) => ({ ...s })) } : {}),
    ...(file?.server.mode ? { mode: file.server.mode } : {}),
  };
}
