import { SYNC_FILE_MAX_BYTES, SYNC_FILE_ROUTE } from "../protocol/sync-file-route.js";
import type { MethodContext } from "./context.js";

/**
 * `msbv.sync_channel` (dev-server extra, docs/protocol.md#dev-sync-channel): where sync mode may move raw
 * bytes instead of base64 through `sandbox.command.run`. `available: false` when the runtime cannot.
 */
export async function syncChannel(_params: unknown, ctx: MethodContext): Promise<unknown> {
  if (!ctx.runtime.spawnRaw || ctx.syncFileChannel === false) return { available: false };
  return { available: true, version: 1, route: SYNC_FILE_ROUTE, maxBytes: SYNC_FILE_MAX_BYTES };
}
