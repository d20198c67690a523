import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { readBoundedMessage } from "../../backend/bounded-body.js";
import type { JsonReply, TextReply } from "./json-rpc.js";
import { refuseForeignRequest, type OriginPolicy } from "./request-origin.js";
import { SYNC_FILE_ROUTE } from "./sync-file-route.js";

// Routing and the framework-level behaviour of the legacy server (axum): exact paths, 404 with an
// empty body, 405 after auth, plain-text 415/413/400/422 Json-extractor rejections, 2 MB limit.

/** axum's default body limit for extractors. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** What the router needs from the server; each handler returns status + JSON body. */
export interface HttpHandlers {
  /** `undefined` = accepted; otherwise the 401 reply. Called for every protected route. */
  authenticate(req: IncomingMessage): Promise<JsonReply | undefined>;
  /** `hungUp` fires when the client closes the connection before the answer (it no longer waits for it). */
  rpc(body: unknown, hungUp: AbortSignal): Promise<JsonReply | TextReply>;
  /** `undefined` = HTTP 200 with an empty body (MCP notifications). */
  mcp(body: unknown): Promise<JsonReply | TextReply | undefined>;
  received(): JsonReply;
  /** Size of the pre-started sandbox pool and how many wait now. */
  pool(): JsonReply;
  /** Set when sandboxes share the host network; the health body then says so (doctor/status show it). */
  network?: "host";
  /** `GET`/`PUT` of the sync file channel (src/server/protocol/sync-file-route.ts). */
  syncFile(req: IncomingMessage, res: ServerResponse): Promise<void>;
  log(line: string): void;
  /** Which Host headers and browser origins are served at all (checked before anything else). */
  originPolicy: OriginPolicy;
}

interface Route {
  methods: readonly string[];
  auth: boolean;
  handle(req: IncomingMessage, res: ServerResponse, h: HttpHandlers): Promise<void>;
}

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  // The legacy body, plus `network` only when sandboxes have one (a fact clients may check before running untrusted code).
  [
    "/api/v1/health",
    {
      methods: ["GET", "HEAD"],
      auth: false,
      handle: async (_q, res, h) =>
        sendJson(res, { status: 200, body: { message: "Service is healthy", ...(h.network ? { network: h.network } : {}) } }),
    },
  ],
  ["/api/v1/rpc", { methods: ["POST"], auth: true, handle: (req, res, h) => withJsonBody(req, res, h.rpc) }],
  ["/mcp", { methods: ["POST"], auth: true, handle: (req, res, h) => withJsonBody(req, res, h.mcp) }],
  // Ours, not legacy: what `sandbox.start` received, for tests and debugging. Same auth as the rpc route.
  ["/_dev/received", { methods: ["GET", "HEAD"], auth: true, handle: async (_q, res, h) => sendJson(res, h.received()) }],
  // Ours, not legacy: the pre-started sandbox pool (docs/dev-server.md#pool), for the bench and `msbv doctor`.
  ["/_dev/pool", { methods: ["GET", "HEAD"], auth: true, handle: async (_q, res, h) => sendJson(res, h.pool()) }],
  // Ours, not legacy: sync mode's raw file channel (docs/protocol.md#dev-sync-channel). Same auth as the rpc route.
  [SYNC_FILE_ROUTE, { methods: ["GET", "PUT"], auth: true, handle: (req, res, h) => h.syncFile(req, res) }],
]);

/** The Node request listener for the dev server. Never throws; unexpected failures are 500s. */
export function createRequestListener(handlers: HttpHandlers): RequestListener {
  return (req, res) => {
    handle(req, res, handlers).catch((err: unknown) => {
      handlers.log(`unexpected failure handling ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) sendJson(res, { status: 500, body: { error: "Internal server error", code: 5002 } });
      else res.destroy();
    });
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, h: HttpHandlers): Promise<void> {
  res.setHeader("vary", "origin, access-control-request-method, access-control-request-headers");
  // Not legacy: the legacy server answered `Access-Control-Allow-Origin: *` and served any Host, so
  // any web page (or a DNS-rebinding name) could drive it. Foreign Hosts/Origins stop here, preflight included.
  const refusal = refuseForeignRequest(req.headers, h.originPolicy);
  if (refusal) return sendText(res, refusal.status, refusal.text);
  const origin = req.headers.origin;
  if (origin !== undefined) res.setHeader("access-control-allow-origin", origin); // an origin the flag allowed
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
    if (origin !== undefined) {
      res.setHeader("access-control-allow-methods", "GET,POST,PUT,DELETE");
      res.setHeader("access-control-allow-headers", "authorization,accept,content-type");
    }
    return sendEmpty(res, 200);
  }
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const route = ROUTES.get(path);
  if (!route) return sendEmpty(res, 404);
  if (route.auth) {
    const rejection = await h.authenticate(req);
    if (rejection) return sendJson(res, rejection);
  }
  if (!route.methods.includes(req.method ?? "")) {
    res.setHeader("allow", route.methods.join(","));
    return sendEmpty(res, 405);
  }
  await route.handle(req, res, h);
}

async function withJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  handler: (body: unknown, hungUp: AbortSignal) => Promise<JsonReply | TextReply | undefined>,
): Promise<void> {
  if (!isJsonContentType(req.headers["content-type"])) {
    return sendText(res, 415, "Expected request with `Content-Type: application/json`");
  }
  // A client that goes away mid-body gets no answer: there is no one to give it to.
  const chunks = await readBoundedMessage(req, BODY_LIMIT_BYTES, "pause").catch(() => null);
  if (chunks === null) return;
  if (chunks === undefined) {
    // Stop reading and close: draining an unbounded body would defeat the limit.
    res.setHeader("connection", "close");
    return sendText(res, 413, "Failed to buffer the request body: length limit exceeded");
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    return sendText(res, 400, `Failed to parse the request body as JSON: ${(err as Error).message}`);
  }
  // A client that gave up (its own timeout or AbortSignal) closes the connection; the run it asked
  // for is then interrupted instead of holding the sandbox's REPL queue (docs/dev-server.md).
  const hangUp = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) hangUp.abort();
  });
  const reply = await handler(value, hangUp.signal);
  if (reply === undefined) return sendEmpty(res, 200);
  if ("text" in reply) return sendText(res, reply.status, reply.text);
  sendJson(res, reply);
}

/** axum's rule: `application/json` or any `application/*+json`, parameters allowed. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const mime = header.split(";")[0]?.trim().toLowerCase() ?? "";
  const match = /^application\/([a-z0-9!#$&^_.-]+?)(?:\+([a-z0-9!#$&^_.-]+))?$/.exec(mime);
  return match !== null && (match[1] === "json" || match[2] === "json");
}

function sendJson(res: ServerResponse, reply: JsonReply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}
