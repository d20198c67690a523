import { InvalidOptionError } from "../../errors/index.js";
import { hasLoneSurrogate } from "../../text/lone-surrogate.js";
import { SYSTEM_PATH } from "./interpreters.js";
import type { RuntimeLanguage } from "./images.js";

/** The upstream images' working directories (their `WORKDIR`), used when no workdir is given. */
export const DEFAULT_WORKDIR: Record<RuntimeLanguage, string> = {
  python: "/home/python-user/work",
  node: "/home/node/work",
};

const DEFAULT_HOME: Record<RuntimeLanguage, string> = {
  python: "/home/python-user",
  node: "/home/node",
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The most bytes (UTF-8, all `NAME=value` entries together) a sandbox's environment may hold. As root,
 * the containment launcher receives its whole spec, environment included, as one argument, and Linux
 * caps one argument at 128 KiB (MAX_ARG_STRLEN): past that a cold start failed with an untyped
 * `spawn E2BIG` while a pooled one went ahead. Refused up front, the same for both, with room left
 * for the rest of the spec.
 */
export const MAX_ENV_BYTES = 64 * 1024;

/** Splits `NAME=value` entries; the value may contain `=`. Throws on a malformed entry or an environment over MAX_ENV_BYTES. */
export function parseEnvs(envs: readonly string[], sandbox: string): Array<[string, string]> {
  const bytes = envs.reduce((sum, entry) => sum + Buffer.byteLength(entry, "utf8") + 1, 0);
  if (bytes > MAX_ENV_BYTES) {
    throw new InvalidOptionError(
      `Invalid envs for sandbox "${sandbox}": ${bytes} bytes in ${envs.length} entries, over the ${MAX_ENV_BYTES}-byte limit of a sandbox's environment.`,
      {
        hint: "pass large values as files in a volume (or through a run's code) instead of environment variables",
        details: { sandbox, bytes, limit: MAX_ENV_BYTES },
      },
    );
  }
  return envs.map((entry, index) => {
    const eq = entry.indexOf("=");
    const key = eq > 0 ? entry.slice(0, eq) : "";
    if (!ENV_NAME.test(key) || entry.includes("\0")) {
      throw new InvalidOptionError(
        `Invalid env entry #${index} "${entry}" for sandbox "${sandbox}": expected NAME=value with NAME made of letters, digits and _.`,
        {
          hint: 'write envs as ["NAME=value", ...]',
          details: { sandbox, index },
        },
      );
    }
    if (hasLoneSurrogate(entry)) {
      throw new InvalidOptionError(`Invalid env entry #${index} for sandbox "${sandbox}": it holds a lone UTF-16 surrogate, which is not text.`, {
        hint: "pass names and values as valid Unicode text",
        details: { sandbox, index },
      });
    }
    return [key, entry.slice(eq + 1)];
  });
}

/**
 * The sandbox's environment: a fixed base (PATH, HOME, LANG) like the upstream images', then
 * the user's envs, which may override the base.
 */
export function sandboxEnv(language: RuntimeLanguage, pathDirs: readonly string[], userEnvs: Array<[string, string]>): Array<[string, string]> {
  const base = new Map<string, string>([
    ["PATH", [...pathDirs, SYSTEM_PATH].join(":")],
    ["HOME", DEFAULT_HOME[language]],
    ["LANG", "C.UTF-8"],
    ["PYTHONIOENCODING", "utf-8"],
  ]);
  for (const [key, value] of userEnvs) base.set(key, value);
  return [...base];
}
