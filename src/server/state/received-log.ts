/**
 * One `sandbox.start` call as it arrived, before any validation — so tests can assert that fields
 * such as `volumes` really reached the server. Values are deep copies of the request JSON.
 */
export interface ReceivedRequest {
  method: "sandbox.start";
  /** `params.sandbox` exactly as sent (normally a string; anything JSON when the caller erred). */
  sandbox: unknown;
  /** `params.config` exactly as sent; `undefined` when the member was absent. */
  config: unknown;
  /** ISO 8601 time of arrival. */
  receivedAt: string;
}

/** The dev server's record of received start calls, oldest first (live array). */
export type ReceivedLog = ReceivedRequest[];

export function recordStart(log: ReceivedLog, params: unknown): void {
  const obj = typeof params === "object" && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
  log.push({
    method: "sandbox.start",
    sandbox: structuredClone(obj.sandbox),
    config: structuredClone(obj.config),
    receivedAt: new Date().toISOString(),
  });
}
