import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintApiKey } from "../../../src/server/index.js";
import { call, send, startHarness, TEST_SECRET, type Harness } from "../../helpers/server-harness.js";

// Wire conformance, part 1: routes, framework rejections and authentication (docs/protocol.md#routes, #auth, #errors)
// against a real server on a real socket with auth on.

const INVALID_CREDENTIALS = { error: "Invalid credentials", code: 1001 };
const INVALID_TOKEN = { error: "Invalid or expired token", code: 1004 };
const NOT_FOUND_RPC = { jsonrpc: "2.0", error: { code: -32601, message: "Method not found: sandbox.nope" }, id: "1" };

const now = () => Math.floor(Date.now() / 1000);

let h: Harness;
const keys: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ key: TEST_SECRET });
  keys.valid = await mintApiKey(TEST_SECRET);
  keys.wrongSecret = await mintApiKey("another-secret");
  keys.expired = await mintApiKey(TEST_SECRET, { now: now() - 3600, expiresInSeconds: 1800 });
  keys.inLeeway = await mintApiKey(TEST_SECRET, { now: now() - 3600, expiresInSeconds: 3600 - 30 });
  keys.pastLeeway = await mintApiKey(TEST_SECRET, { now: now() - 3600, expiresInSeconds: 3600 - 120 });
  const secret = new TextEncoder().encode(TEST_SECRET);
  keys.noIat = `msb_${await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(now() + 600)
    .sign(secret)}`;
  keys.fractionalExp = `msb_${await new SignJWT({ exp: now() + 600.5 }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().sign(secret)}`;
});
afterAll(async () => h.close());

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Raw body text; default: a JSON-RPC call of the unknown method `sandbox.nope`. */
  body?: string | null;
  status: number;
  json?: unknown;
  text?: string;
  textStartsWith?: string;
}

const nope = JSON.stringify(call("sandbox.nope", { namespace: "default" }));
const json = { "content-type": "application/json" };
const bearer = (key: string) => ({ ...json, authorization: `Bearer ${key}` });

const cases = (): Case[] => [
  // Routes
  { name: "health", method: "GET", path: "/api/v1/health", body: null, status: 200, json: { message: "Service is healthy" } },
  {
    name: "health ignores the query",
    method: "GET",
    path: "/api/v1/health?probe=1",
    body: null,
    status: 200,
    json: { message: "Service is healthy" },
  },
  { name: "POST on health is 405", path: "/api/v1/health", headers: json, status: 405, text: "" },
  { name: "unknown path is 404 empty", method: "GET", path: "/nope", body: null, status: 404, text: "" },
  { name: "trailing slash is 404", path: "/api/v1/rpc/", headers: bearer(keys.valid!), status: 404, text: "" },
  { name: "REST start route does not exist", path: "/api/v1/sandbox/start", headers: bearer(keys.valid!), status: 404, text: "" },
  // Auth
  { name: "no header", path: "/api/v1/rpc", headers: json, status: 401, json: INVALID_CREDENTIALS },
  { name: "GET rpc without auth is 401 (auth first)", method: "GET", path: "/api/v1/rpc", body: null, status: 401, json: INVALID_CREDENTIALS },
  { name: "GET rpc with auth is 405", method: "GET", path: "/api/v1/rpc", headers: bearer(keys.valid!), body: null, status: 405, text: "" },
  { name: "valid Bearer key", path: "/api/v1/rpc", headers: bearer(keys.valid!), status: 404, json: NOT_FOUND_RPC },
  { name: "valid bare key", path: "/api/v1/rpc", headers: { ...json, authorization: keys.valid! }, status: 404, json: NOT_FOUND_RPC },
  {
    name: "lowercase bearer",
    path: "/api/v1/rpc",
    headers: { ...json, authorization: `bearer ${keys.valid}` },
    status: 401,
    json: INVALID_CREDENTIALS,
  },
  {
    name: "Bearer with two spaces",
    path: "/api/v1/rpc",
    headers: { ...json, authorization: `Bearer  ${keys.valid}` },
    status: 401,
    json: INVALID_CREDENTIALS,
  },
  { name: "no msb_ prefix", path: "/api/v1/rpc", headers: bearer(keys.valid!.slice(4)), status: 401, json: INVALID_CREDENTIALS },
  { name: "Bearer xyz", path: "/api/v1/rpc", headers: bearer("xyz"), status: 401, json: INVALID_CREDENTIALS },
  {
    name: "non-ASCII header",
    path: "/api/v1/rpc",
    headers: { ...json, authorization: `Bearer ${keys.valid}\u00e9` },
    status: 401,
    json: INVALID_CREDENTIALS,
  },
  { name: "bad signature", path: "/api/v1/rpc", headers: bearer(keys.wrongSecret!), status: 401, json: INVALID_TOKEN },
  { name: "expired", path: "/api/v1/rpc", headers: bearer(keys.expired!), status: 401, json: INVALID_TOKEN },
  { name: "expired 30 s ago (inside 60 s leeway)", path: "/api/v1/rpc", headers: bearer(keys.inLeeway!), status: 404, json: NOT_FOUND_RPC },
  { name: "expired 120 s ago (past leeway)", path: "/api/v1/rpc", headers: bearer(keys.pastLeeway!), status: 401, json: INVALID_TOKEN },
  { name: "malformed JWT", path: "/api/v1/rpc", headers: bearer("msb_not.a.jwt"), status: 401, json: INVALID_TOKEN },
  { name: "missing iat", path: "/api/v1/rpc", headers: bearer(keys.noIat!), status: 401, json: INVALID_TOKEN },
  { name: "fractional exp", path: "/api/v1/rpc", headers: bearer(keys.fractionalExp!), status: 401, json: INVALID_TOKEN },
  {
    name: "Proxy-Authorization wins (valid proxy, bad authorization)",
    path: "/api/v1/rpc",
    headers: { ...bearer("xyz"), "proxy-authorization": `Bearer ${keys.valid}` },
    status: 404,
    json: NOT_FOUND_RPC,
  },
  {
    name: "Proxy-Authorization wins (bad proxy, valid authorization)",
    path: "/api/v1/rpc",
    headers: { ...bearer(keys.valid!), "proxy-authorization": "Bearer xyz" },
    status: 401,
    json: INVALID_CREDENTIALS,
  },
  { name: "mcp needs auth", path: "/mcp", headers: json, status: 401, json: INVALID_CREDENTIALS },
  { name: "received log needs auth", method: "GET", path: "/_dev/received", body: null, status: 401, json: INVALID_CREDENTIALS },
  {
    name: "received log with auth",
    method: "GET",
    path: "/_dev/received",
    headers: bearer(keys.valid!),
    body: null,
    status: 200,
    json: { received: [] },
  },
  // Framework rejections (plain text)
  {
    name: "no content type",
    path: "/api/v1/rpc",
    headers: { authorization: `Bearer ${keys.valid}` },
    status: 415,
    text: "Expected request with `Content-Type: application/json`",
  },
  {
    name: "text/plain",
    path: "/api/v1/rpc",
    headers: { ...bearer(keys.valid!), "content-type": "text/plain" },
    status: 415,
    text: "Expected request with `Content-Type: application/json`",
  },
  {
    name: "json with charset",
    path: "/api/v1/rpc",
    headers: { ...bearer(keys.valid!), "content-type": "application/json; charset=utf-8" },
    status: 404,
    json: NOT_FOUND_RPC,
  },
  {
    name: "+json suffix",
    path: "/api/v1/rpc",
    headers: { ...bearer(keys.valid!), "content-type": "application/vnd.api+json" },
    status: 404,
    json: NOT_FOUND_RPC,
  },
  {
    name: "malformed JSON",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: "{",
    status: 400,
    textStartsWith: "Failed to parse the request body as JSON: ",
  },
  {
    name: "empty body",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: "",
    status: 400,
    textStartsWith: "Failed to parse the request body as JSON: ",
  },
  {
    name: "batch array",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: `[${nope}]`,
    status: 422,
    textStartsWith: "Failed to deserialize the JSON body into the target type: ",
  },
  {
    name: "missing method",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":"2.0","id":1}',
    status: 422,
    textStartsWith: "Failed to deserialize the JSON body into the target type: missing field `method`",
  },
  {
    name: "missing jsonrpc",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"method":"sandbox.stop"}',
    status: 422,
    textStartsWith: "Failed to deserialize the JSON body into the target type: missing field `jsonrpc`",
  },
  {
    name: "numeric jsonrpc",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":2,"method":"x"}',
    status: 422,
    textStartsWith: "Failed to deserialize the JSON body into the target type: ",
  },
  // Envelope
  {
    name: "jsonrpc 1.0",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":"1.0","method":"sandbox.stop","id":7}',
    status: 400,
    json: { jsonrpc: "2.0", error: { code: -32600, message: "Invalid or missing jsonrpc version field" }, id: 7 },
  },
  {
    name: "null id echoed",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":"2.0","method":"sandbox.nope","id":null}',
    status: 404,
    json: { jsonrpc: "2.0", error: { code: -32601, message: "Method not found: sandbox.nope" }, id: null },
  },
  {
    name: "absent id stays absent",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":"2.0","method":"sandbox.nope"}',
    status: 404,
    json: { jsonrpc: "2.0", error: { code: -32601, message: "Method not found: sandbox.nope" } },
  },
  {
    name: "method names are case-sensitive",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":"2.0","method":"Sandbox.Stop","id":{"a":[1]}}',
    status: 404,
    json: { jsonrpc: "2.0", error: { code: -32601, message: "Method not found: Sandbox.Stop" }, id: { a: [1] } },
  },
  {
    name: "prototype names are not methods",
    path: "/api/v1/rpc",
    headers: bearer(keys.valid!),
    body: '{"jsonrpc":"2.0","method":"constructor","id":"c"}',
    status: 404,
    json: { jsonrpc: "2.0", error: { code: -32601, message: "Method not found: constructor" }, id: "c" },
  },
];

describe("wire conformance: routes, framework, auth", () => {
  it("runs every case", async () => {
    for (const c of cases()) {
      const init: RequestInit = { method: c.method ?? "POST", ...(c.headers && { headers: c.headers }) };
      if (c.body !== null) init.body = c.body ?? nope;
      const reply = await send(`${h.server.url}${c.path}`, init);
      expect({ case: c.name, status: reply.status }).toEqual({ case: c.name, status: c.status });
      if (c.json !== undefined) expect({ case: c.name, body: reply.json }).toStrictEqual({ case: c.name, body: c.json });
      if (c.text !== undefined) expect({ case: c.name, body: reply.text }).toEqual({ case: c.name, body: c.text });
      if (c.textStartsWith !== undefined) {
        expect(reply.text.startsWith(c.textStartsWith), `${c.name}: ${reply.text}`).toBe(true);
        expect(reply.headers.get("content-type"), c.name).toMatch(/^text\/plain/);
      }
    }
  });

  it("answers 413 for a body over 2 MB and accepts one just under", async () => {
    const big = JSON.stringify({ ...call("sandbox.nope"), pad: "x".repeat(2 * 1024 * 1024) });
    const over = await send(`${h.server.url}/api/v1/rpc`, { method: "POST", headers: bearer(keys.valid!), body: big });
    expect(over.status).toBe(413);
    expect(over.text).toBe("Failed to buffer the request body: length limit exceeded");
    const under = JSON.stringify({ ...call("sandbox.nope"), pad: "x".repeat(2 * 1024 * 1024 - 200) });
    const ok = await send(`${h.server.url}/api/v1/rpc`, { method: "POST", headers: bearer(keys.valid!), body: under });
    expect(ok.status).toBe(404);
    expect(ok.json).toStrictEqual(NOT_FOUND_RPC);
  });

  it("refuses CORS preflight from a foreign origin, without any allow-origin header (not legacy: it allowed *)", async () => {
    const reply = await send(`${h.server.url}/api/v1/rpc`, {
      method: "OPTIONS",
      headers: { origin: "http://example.test", "access-control-request-method": "POST" },
    });
    expect(reply.status).toBe(403);
    expect(reply.headers.get("access-control-allow-origin")).toBeNull();
    expect(reply.text).toContain("--allow-origin");
  });

  it("never logs the key", async () => {
    await send(`${h.server.url}/api/v1/rpc`, { method: "POST", headers: bearer(keys.valid!), body: nope });
    expect(h.logs.length).toBeGreaterThan(0);
    expect(h.logs.join("\n")).not.toContain(TEST_SECRET);
    expect(h.logs.join("\n")).not.toContain(keys.valid!);
  });
});
