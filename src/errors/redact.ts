// API keys must never reach messages or logs. Keys are `msb_` + JWT; a bearer header may also leak
// a bare key. Redact anything that looks like either before text leaves the library.
const KEY_PATTERN = /msb_[A-Za-z0-9_\-.]+/g;
const BEARER_PATTERN = /(Bearer\s+)[^\s"']+/gi;

export function redactSecrets(text: string, extraSecrets: readonly string[] = []): string {
  let out = text.replace(KEY_PATTERN, "msb_***").replace(BEARER_PATTERN, "$1***");
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}
