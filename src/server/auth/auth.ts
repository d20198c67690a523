import type { IncomingHttpHeaders } from "node:http";
import { jwtVerify } from "jose";
import { RestCodes, restErrorReply, type JsonReply } from "../protocol/json-rpc.js";

// Legacy rule (docs/protocol.md#auth): exp checked with jsonwebtoken's default 60 s leeway; aud/iss not checked.
const LEEWAY_SECONDS = 60;
const KEY_PREFIX = "msb_";
// `HeaderValue::to_str` accepts visible ASCII, space and tab; anything else counts as no credentials.
const VISIBLE_ASCII = /^[\t\x20-\x7e]*$/;

const INVALID_CREDENTIALS = restErrorReply(401, "Invalid credentials", RestCodes.INVALID_CREDENTIALS);
const INVALID_TOKEN = restErrorReply(401, "Invalid or expired token", RestCodes.INVALID_TOKEN);

/**
 * Checks a request's API key. Returns `undefined` when accepted, else the exact 401 reply.
 * `Proxy-Authorization` wins over `Authorization` whenever it is present, even if invalid.
 */
export async function authenticate(headers: IncomingHttpHeaders, secret: Uint8Array): Promise<JsonReply | undefined> {
  const raw = headers["proxy-authorization"] ?? headers.authorization;
  if (typeof raw !== "string" || !VISIBLE_ASCII.test(raw)) return INVALID_CREDENTIALS;
  // Exact, case-sensitive prefix with one space; otherwise the whole value is taken as the key.
  const key = raw.startsWith("Bearer ") ? raw.slice("Bearer ".length) : raw;
  if (!key.startsWith(KEY_PREFIX)) return INVALID_CREDENTIALS;
  return (await verifyJwt(key.slice(KEY_PREFIX.length), secret)) ? undefined : INVALID_TOKEN;
}

async function verifyJwt(jwt: string, secret: Uint8Array): Promise<boolean> {
  try {
    const { payload } = await jwtVerify(jwt, secret, {
      algorithms: ["HS256"],
      clockTolerance: LEEWAY_SECONDS,
      requiredClaims: ["exp", "iat"],
    });
    // jsonwebtoken decodes exp/iat into u64: fractions and negatives fail decoding.
    return isUnsignedInteger(payload.exp) && isUnsignedInteger(payload.iat);
  } catch {
    return false;
  }
}

function isUnsignedInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
