import type { IncomingHttpHeaders } from "node:http";
import { isIP } from "node:net";

// Who may talk to the dev server. A web page the user visits can send requests to 127.0.0.1 (simple
// POSTs need no preflight) and a DNS-rebinding name can even read the answers; the server itself
// must refuse both, because `--dev` has no key to stop them (docs/security.md, "Drive-by from a web page").

/** Loopback only: `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped 127.x. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface OriginPolicy {
  /** The port the server really listens on (what a loopback `Host` header must name). */
  port(): number;
  /** Only loopback `Host` names are accepted (the server listens on a loopback address). */
  loopbackHostOnly: boolean;
  /** Browser origins allowed to call the API, normalised (`scheme://host[:port]`). */
  allowedOrigins: ReadonlySet<string>;
}

/** Why a request is refused (status + plain-text explanation), or `undefined` when it may proceed. */
export function refuseForeignRequest(headers: IncomingHttpHeaders, policy: OriginPolicy): { status: number; text: string } | undefined {
  if (policy.loopbackHostOnly && !isLoopbackHostHeader(headers.host, policy.port())) {
    return {
      status: 421,
      text:
        `Refused: Host header ${JSON.stringify(headers.host ?? "")} is not a loopback name for this server. ` +
        `Use http://127.0.0.1:${policy.port()} (or localhost / [::1]).`,
    };
  }
  const origin = headers.origin;
  if (origin !== undefined && !policy.allowedOrigins.has(normaliseOrigin(origin) ?? "")) {
    return {
      status: 403,
      text:
        `Refused: requests from browser origin ${JSON.stringify(origin)} are not allowed. ` +
        "Start the dev server with --allow-origin <origin> to allow a page you trust.",
    };
  }
  return undefined;
}

/**
 * `localhost`, `127.x.y.z` or `[::1]` with the server's port. A missing port is only right for port 80
 * (browsers omit the default port). Anything else (a rebinding name, another port) is refused.
 */
export function isLoopbackHostHeader(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(host.trim());
  if (match === null) return false;
  const name = match[1]!.startsWith("[") ? match[1]!.slice(1, -1) : match[1]!;
  const hostPort = match[2] === undefined ? 80 : Number(match[2]);
  if (hostPort !== port) return false;
  if (name.toLowerCase() === "localhost") return true;
  return isIP(name) !== 0 && isLoopback(name);
}

/** `scheme://host[:port]` in lower case, default ports dropped; `undefined` for anything not an http(s) origin. */
export function normaliseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  return url.origin;
}
