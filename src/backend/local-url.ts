import { hostname, networkInterfaces } from "node:os";

/**
 * True when `url` names this machine: loopback names/addresses, this machine's hostname, or one of
 * its interface addresses. Host-path volumes only make sense against such a server, because the
 * legacy server resolves volume paths on its own filesystem (docs/protocol.md#limit-server-paths).
 */
export function isLocalServerUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  host = host.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || host === "0.0.0.0" || host === "::") return true;
  if (host === "::ffff:127.0.0.1") return true;
  const own = hostname().toLowerCase();
  if (host === own || host === own.split(".")[0]) return true;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.address.toLowerCase() === host) return true;
  }
  return false;
}
