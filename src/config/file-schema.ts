import * as z from "zod";
import { ACCEPTED_FORMS } from "../volumes/parse-spec.js";
import {
  checkBackend,
  checkCpus,
  checkEnvName,
  checkEnvValue,
  checkImage,
  checkMemory,
  checkPort,
  checkSandboxName,
  checkScriptName,
  checkShell,
  checkWorkdir,
  describe,
  type BackendKind,
} from "./option-rules.js";

// The shape of microsandbox.toml. Every table is strict: an unknown key is an error (with a
// "did you mean"), never silently ignored, because a typo like `volume =` would otherwise drop mounts.
// Cross-field rules (depends_on targets, duplicate guests, volume syntax) live in file-semantics.ts.

type Rule = (value: unknown) => string | undefined;

/** Marks an issue about a key's name (not its value), so it is located at the key. */
export const AT_KEY = { atKey: true } as const;

/** An optional value judged by one of the shared option rules. */
function ruled<T>(rule: Rule) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = rule(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((value) => value as T)
    .optional();
}

const str =
  (what: string): Rule =>
  (v) =>
    typeof v === "string" && v.length > 0 ? undefined : `${what} must be a non-empty string, got ${describe(v)}`;

const absolute =
  (what: string): Rule =>
  (v) =>
    typeof v === "string" && v.startsWith("/") ? undefined : `${what} must be an absolute path, got ${describe(v)}`;

const serverUrl: Rule = (v) => {
  if (typeof v !== "string") return `url must be a string, got ${describe(v)}`;
  return checkServerUrl(v);
};

/** http(s) URL without credentials: the generated file records it and must never hold a secret. */
export function checkServerUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `server url "${url}" is not a valid URL`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `server url must start with http:// or https://, got "${parsed.protocol}"`;
  }
  if (parsed.username || parsed.password) return "server url must not contain credentials";
  return undefined;
}

const envName: Rule = (v) => (typeof v === "string" ? checkEnvName(v) : `must be a string, got ${describe(v)}`);

const envTable = z.record(z.string(), z.unknown()).superRefine((table, ctx) => {
  for (const [name, value] of Object.entries(table)) {
    const badName = checkEnvName(name);
    if (badName) ctx.addIssue({ code: "custom", message: badName, path: [name], params: AT_KEY });
    const badValue = badName ? undefined : checkEnvValue(name, value);
    if (badValue) ctx.addIssue({ code: "custom", message: badValue, path: [name] });
  }
});

const scriptTable = z.record(z.string(), z.unknown()).superRefine((table, ctx) => {
  for (const [name, body] of Object.entries(table)) {
    const badName = checkScriptName(name);
    if (badName) ctx.addIssue({ code: "custom", message: badName, path: [name], params: AT_KEY });
    else if (typeof body !== "string") {
      ctx.addIssue({ code: "custom", message: `script body must be a string, got ${describe(body)}`, path: [name] });
    }
  }
});

const nameList = z.array(ruled<string>(checkSandboxName).pipe(z.string()));

export const VOLUME_KEYS = ["host", "guest", "mount", "readonly", "create"] as const;
const volumeTable = z.strictObject({
  host: ruled<string>(str("host")).pipe(z.string({ error: "host is required" })),
  guest: ruled<string>(str("guest")).pipe(z.string({ error: "guest is required" })),
  readonly: z.boolean().optional(),
  create: z.boolean().optional(),
});
// `{ host, mount }`: the shape a widely used fork of the Python SDK sends (`mount` = guest path).
const volumeMountTable = z.strictObject({
  host: ruled<string>(str("host")).pipe(z.string({ error: "host is required" })),
  mount: ruled<string>(str("mount")).pipe(z.string({ error: "mount is required" })),
  readonly: z.boolean().optional(),
  create: z.boolean().optional(),
});
const volumeTuple = z.tuple([z.string(), z.string()]);
const volumeEntry = z.union([z.string(), volumeTable, volumeMountTable, volumeTuple], {
  error: (issue) => `a volume is ${ACCEPTED_FORMS}, got ${describe(issue.input)}`,
});

export const SANDBOX_KEYS = ["image", "memory", "cpus", "workdir", "shell", "env", "ports", "depends_on", "scripts", "volumes", "backend"] as const;
const sandboxTable = z
  .strictObject({
    image: ruled<string>(checkImage),
    memory: ruled<number>(checkMemory),
    cpus: ruled<number>(checkCpus),
    workdir: ruled<string>(checkWorkdir),
    shell: ruled<string>(checkShell),
    env: envTable.optional(),
    ports: z.array(ruled<string | number>(checkPort)).optional(),
    depends_on: nameList.optional(),
    scripts: scriptTable.optional(),
    volumes: z.array(volumeEntry).optional(),
    backend: ruled<BackendKind>(checkBackend),
  })
  .transform(({ depends_on, ports, env, scripts, ...rest }) => ({
    ...rest,
    ...(ports ? { ports: ports.map(String) } : {}),
    ...(env ? { env: env as Record<string, string> } : {}),
    ...(scripts ? { scripts: scripts as Record<string, string> } : {}),
    ...(depends_on ? { dependsOn: depends_on } : {}),
  }));

export const SERVER_KEYS = ["url", "api_key_env", "shared_filesystem", "mode", "backend"] as const;
const serverTable = z
  .strictObject({
    url: ruled<string>(serverUrl),
    api_key_env: ruled<string>(envName),
    // Named so the error can say what to do instead; a key in a file ends up in git and in logs.
    api_key: z
      .never({
        error: 'inline api_key is not allowed: keep the key in an environment variable and name it with api_key_env = "MSB_API_KEY"',
      })
      .optional(),
    shared_filesystem: z
      .array(
        z.strictObject({
          host_prefix: ruled<string>(absolute("host_prefix")).pipe(z.string({ error: "host_prefix is required" })),
          server_prefix: ruled<string>(absolute("server_prefix")).pipe(z.string({ error: "server_prefix is required" })),
        }),
      )
      .optional(),
    mode: z.enum(["mount", "sync"], { error: 'mode must be "mount" or "sync"' }).optional(),
    backend: ruled<BackendKind>(checkBackend),
  })
  .transform(({ url, api_key_env, shared_filesystem, mode, backend }) => ({
    ...(url !== undefined ? { url } : {}),
    ...(api_key_env !== undefined ? { apiKeyEnv: api_key_env } : {}),
    ...(shared_filesystem ? { sharedFilesystem: shared_filesystem.map((s) => ({ hostPrefix: s.host_prefix, serverPrefix: s.server_prefix })) } : {}),
    ...(mode ? { mode } : {}),
    ...(backend ? { backend } : {}),
  }));

export const POLICY_KEYS = ["allow"] as const;
const policyTable = z.strictObject({ allow: z.array(ruled<string>(str("allow entry")).pipe(z.string())).optional() });

export const ROOT_KEYS = ["server", "policy", "defaults", "sandboxes"] as const;
export const SHARED_FS_KEYS = ["host_prefix", "server_prefix"] as const;

/** The whole file. */
export const configFileSchema = z.strictObject({
  server: serverTable.optional(),
  policy: policyTable.optional(),
  defaults: sandboxTable.optional(),
  // Sandbox names (the record keys) are checked in file-semantics.ts, which runs even when a table fails.
  sandboxes: z.record(z.string(), sandboxTable).optional(),
});

export type ConfigFileData = z.output<typeof configFileSchema>;

/** The keys allowed in the table at `path`, for "did you mean" suggestions. */
export function allowedKeysAt(path: readonly PropertyKey[]): readonly string[] {
  const [top, second, third] = path;
  if (path.length === 0) return ROOT_KEYS;
  if (top === "server") return path.length === 1 ? SERVER_KEYS : SHARED_FS_KEYS;
  if (top === "policy") return POLICY_KEYS;
  if (top === "defaults") return third === undefined && second === undefined ? SANDBOX_KEYS : VOLUME_KEYS;
  if (top === "sandboxes") return path.length === 2 ? SANDBOX_KEYS : VOLUME_KEYS;
  return [];
}
