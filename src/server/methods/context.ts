import { access } from "node:fs/promises";
import type { SandboxRuntime } from "../runtime/types.js";
import { internalError } from "../protocol/json-rpc.js";
import type { ReceivedLog } from "../state/received-log.js";
import type { Sandboxfile } from "../state/sandboxfile.js";
import type { ServerStatePaths } from "./volumes.js";

/** What every method handler may use. */
export interface MethodContext {
  runtime: SandboxRuntime;
  sandboxfile: Sandboxfile;
  state: ServerStatePaths;
  received: ReceivedLog;
  log: (line: string) => void;
  /** The sync file channel is offered (docs/protocol.md#dev-sync-channel); off makes the server look legacy to sync. */
  syncFileChannel?: boolean;
}

/** A JSON-RPC method: returns the `result` or throws an RpcRestError (anything else → generic 500). */
export type MethodHandler = (params: unknown, ctx: MethodContext, hungUp?: AbortSignal) => Promise<unknown>;

/** Sandboxfile entries; unreadable/unparsable file → generic 500 (legacy). */
export async function readEntries(ctx: MethodContext): Promise<Map<string, unknown> | undefined> {
  try {
    return await ctx.sandboxfile.readEntries();
  } catch (err) {
    throw internalError((err as Error).message, err);
  }
}

export async function projectDirExists(ctx: MethodContext): Promise<boolean> {
  try {
    await access(ctx.state.projectDir);
    return true;
  } catch {
    return false;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
