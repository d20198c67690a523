import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { parse, TomlError } from "smol-toml";
import { configError, locateIssues, zodToRawIssues } from "./config-issues.js";
import { configFileSchema } from "./file-schema.js";
import { semanticIssues } from "./file-semantics.js";
import { isInsideDeclaredVolume } from "./trusted-config.js";
import type { LoadedConfig } from "./types.js";

/** The file name looked for in cwd and its parents. */
export const CONFIG_FILE_NAME = "microsandbox.toml";

export interface LoadConfigOptions {
  /** Explicit file (relative to cwd); it must exist. */
  configPath?: string;
  /** Where discovery starts. Default `process.cwd()`. */
  cwd?: string;
  /** Default `process.env`. `MSB_CONFIG` names a file that must exist. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Finds the config file: `configPath`, then `MSB_CONFIG`, then the nearest `microsandbox.toml`
 * walking up from cwd that does not lie inside a volume declared by a config further up. An explicitly
 * named file that is missing is an error; finding none is not.
 */
export async function findConfigFile(opts: LoadConfigOptions = {}): Promise<string | undefined> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const explicit = opts.configPath ?? (env.MSB_CONFIG ? env.MSB_CONFIG : undefined);
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!(await isFile(file))) {
      const via = opts.configPath !== undefined ? "the configPath option" : "MSB_CONFIG";
      throw configError(file, [{ file, keyPath: "", message: `config file named by ${via} does not exist or is not a file` }]);
    }
    return file;
  }
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const file = path.join(dir, CONFIG_FILE_NAME);
    if (await isFile(file)) {
      // A file inside a folder that a config further up mounts into sandboxes may have been planted
      // by a sandbox: never trust it; keep walking up (docs/security.md, "The trusted config is out of reach").
      const declaredBy = await isInsideDeclaredVolume(file, CONFIG_FILE_NAME);
      if (declaredBy === undefined) return file;
      process.emitWarning(`ignoring ${file}: it lies inside a volume declared by ${declaredBy}, so a sandbox may have written it`, {
        type: "MicrosandboxWarning",
        code: "MSBV_CONFIG_IN_VOLUME",
      });
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Discovers, reads, parses and validates the config file; `undefined` when there is none. */
export async function loadConfigFile(opts: LoadConfigOptions = {}): Promise<LoadedConfig | undefined> {
  const file = await findConfigFile(opts);
  if (file === undefined) return undefined;
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (e) {
    throw configError(file, [{ file, keyPath: "", message: `cannot read the file: ${(e as Error).message}` }], e);
  }
  return parseConfigText(source, file);
}

/**
 * Parses and validates config text as if it were `file` (absolute). Throws one ConfigError listing
 * every problem with `file:line:col key.path: message`.
 */
export function parseConfigText(source: string, file: string): LoadedConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parse(source);
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const message = `TOML syntax error: ${e.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "")}`;
    throw configError(file, [{ file, line: e.line, column: e.column, keyPath: "", message }], e);
  }
  const checked = configFileSchema.safeParse(raw, { reportInput: true });
  const rawIssues = [...(checked.success ? [] : zodToRawIssues(checked.error.issues)), ...semanticIssues(raw)];
  if (rawIssues.length > 0 || !checked.success) throw configError(file, locateIssues(file, source, rawIssues));

  const data = checked.data;
  const dir = path.dirname(file);
  return {
    path: file,
    dir,
    server: data.server ?? {},
    // `~/` entries stay as written: the volume policy expands them.
    policy: { allow: (data.policy?.allow ?? []).map((p) => (p.startsWith("~") ? p : path.resolve(dir, p))) },
    defaults: data.defaults ?? {},
    sandboxes: data.sandboxes ?? {},
  };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
