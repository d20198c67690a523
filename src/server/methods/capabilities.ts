/**
 * `msbv.capabilities`: our extra JSON-RPC method. A client asks it before sending anything a legacy
 * server could not honour; a legacy server answers "method not found", which the client reads as
 * "no extras". Read-only volumes then travel in `config.readonly_volumes` (never `:ro` in a string).
 */
export async function msbvCapabilities(): Promise<{ readonlyVolumes: boolean; nestedVolumes: boolean }> {
  return { readonlyVolumes: true, nestedVolumes: true };
}
