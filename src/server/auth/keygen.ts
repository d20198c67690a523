import { SignJWT } from "jose";
import { InvalidOptionError } from "../../errors/errors.js";

const DEFAULT_EXPIRY_SECONDS = 24 * 60 * 60;

/** Seconds per unit of `msb server keygen --expire` (upstream: `mo` = 30 days, `y` = 365 days). */
const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 7 * 86_400,
  mo: 30 * 86_400,
  y: 365 * 86_400,
};

export interface MintApiKeyOptions {
  /** Lifetime in seconds. Default 24 hours, like `msb server keygen`. */
  expiresInSeconds?: number;
  /** "Now" as unix time in **seconds** (for tests minting already-expired keys). Default: the clock. */
  now?: number;
}

/**
 * Mints an API key the way `msb server keygen` does: `msb_` + an HS256 JWT signed with the UTF-8
 * bytes of `secret`, claims `iat` and `exp` (integer unix seconds).
 */
export async function mintApiKey(secret: string, options: MintApiKeyOptions = {}): Promise<string> {
  const now = Math.floor(options.now ?? Date.now() / 1000);
  const lifetime = options.expiresInSeconds ?? DEFAULT_EXPIRY_SECONDS;
  if (!Number.isFinite(lifetime)) {
    throw new InvalidOptionError(`API key lifetime must be a finite number of seconds, got ${lifetime}`, {
      hint: "Pass expiresInSeconds as a number such as 86400.",
    });
  }
  const jwt = await new SignJWT({})
    .setProtectedHeader({ typ: "JWT", alg: "HS256" })
    .setIssuedAt(now)
    .setExpirationTime(now + Math.floor(lifetime))
    .sign(new TextEncoder().encode(secret));
  return `msb_${jwt}`;
}

/**
 * Parses upstream's keygen duration syntax: an integer followed by `s`, `m`, `h`, `d`, `w`, `mo`
 * or `y`; no unit means hours. Returns seconds.
 */
export function parseKeygenDuration(text: string): number {
  const match = /^(\d+)(mo|s|m|h|d|w|y)?$/.exec(text.trim());
  if (!match) {
    throw new InvalidOptionError(`Invalid key lifetime "${text}": expected an integer with an optional unit`, {
      hint: "Use e.g. 30m, 12h, 7d, 2w, 1mo or 1y (no unit = hours).",
      details: { value: text },
    });
  }
  const amount = Number(match[1]);
  const unit = match[2] ?? "h";
  return amount * (UNIT_SECONDS[unit] ?? 3600);
}
