// The one "is this text?" rule for strings that leave the process as UTF-8 (bubblewrap argv, the
// launcher's spec, a mount table, a Sandboxfile). Shared by the volume model (src/volumes: host and
// guest paths, MSBV_INVALID_VOLUME) and the dev server's runtime (src/server/runtime: env entries
// and the workdir, MSBV_INVALID_OPTION); each wraps it in its own error and wording. It lives
// outside both so neither owns the other's rule: the env and workdir checks are not volume rules.

/**
 * True when `text` holds a UTF-16 surrogate without its pair (JSON allows "\ud800"): it has no UTF-8
 * form, so the containment launcher cannot pass it to bubblewrap (a cold start failed on it while a
 * pooled one, whose supervisor stores it as U+FFFD, went ahead). Refused up front instead.
 */
export function hasLoneSurrogate(text: string): boolean {
  // With the `u` flag a well-formed pair is one code point outside this range, so only a lone half matches.
  return /[\uD800-\uDFFF]/u.test(text);
}
