import { SYNC_FILE_MAX_BYTES, SYNC_FILE_ROUTE, SYNC_FILE_VERSION } from "../protocol/sync-file-route.js";
import type { MethodContext } from "./context.js";

/** Where sync mode may move raw bytes (docs/protocol.md#dev-sync-channel). */
export interface SyncChannelAdvert {
  version: number;
  route: string;
  maxBytes: number;
}

/**
 * `msbv.capabilities`: our extra JSON-RPC method, the one probe for everything a legacy server lacks. A
 * client asks it before sending anything a legacy server could not honour; a legacy server answers
 * "method not found", which the client reads as "no extras". Read-only volumes then travel in
 * `config.readonly_volumes` (never `:ro` in a string); `syncChannel` is present when sync mode may use
 * the raw file channel (absent when the server runs with `syncFileChannel: false` or its runtime cannot).
 */
export async function msbvCapabilities(
  _params: unknown,
  ctx: MethodContext,
): Promise<{ readonlyVolumes: boolean; nestedVolumes: boolean; syncChannel?: SyncChannelAdvert }> {
  const offered = ctx.runtime.spawnRaw !== undefined && ctx.syncFileChannel !== false;
  return {
    readonlyVolumes: true,
    nestedVolumes: true,
    ...(offered ? { syncChannel: { version: SYNC_FILE_VERSION, route: SYNC_FILE_ROUTE, maxBytes: SYNC_FILE_MAX_BYTES } } : {}),
  };
}
