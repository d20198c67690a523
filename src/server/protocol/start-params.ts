import { z } from "zod";
import type { SandboxfileEntry } from "../state/sandboxfile.js";

// Typed view of `sandbox.start` params (docs/protocol.md#start-config). Mirrors serde's rules: integers where the
// server has u32/u8, strings inside lists, unknown fields ignored. Gen B: null lists/maps = empty,
// null scalars = absent.

const nullableList = z
  .array(z.string({ error: "expected a string" }), { error: "expected a list of strings" })
  .nullish()
  .transform((v) => v ?? []);

const nullableString = z
  .string({ error: "expected a string" })
  .nullish()
  .transform((v) => v ?? undefined);

const configSchema = z.object({
  image: nullableString,
  memory: z
    .number({ error: "expected an integer (MiB)" })
    .int({ error: "expected an integer (MiB)" })
    .min(0, { error: "expected an integer from 0 to 4294967295" })
    .max(4_294_967_295, { error: "expected an integer from 0 to 4294967295" })
    .nullish()
    .transform((v) => v ?? undefined),
  cpus: z
    .number({ error: "expected an integer from 0 to 255" })
    .int({ error: "expected an integer from 0 to 255" })
    .min(0, { error: "expected an integer from 0 to 255" })
    .max(255, { error: "expected an integer from 0 to 255" })
    .nullish()
    .transform((v) => v ?? undefined),
  volumes: nullableList,
  // Our addition (sent only after `msbv.capabilities` said readonlyVolumes): guest paths mounted read-only.
  // A legacy server ignores the unknown field, so it can never misread it as part of a path.
  readonly_volumes: nullableList,
  ports: nullableList,
  envs: nullableList,
  depends_on: nullableList,
  workdir: nullableString,
  shell: nullableString,
  scripts: z
    .record(z.string(), z.string({ error: "expected a string" }), { error: "expected a map of strings" })
    .nullish()
    .transform((v) => v ?? {}),
  exec: nullableString,
});

const startSchema = z.object(
  {
    sandbox: z.string({ error: "expected a string" }),
    config: configSchema.nullish(),
  },
  { error: "expected an object" },
);

const stopSchema = z.object({ sandbox: z.string({ error: "expected a string" }) }, { error: "expected an object" });

const metricsSchema = z.object({ sandbox: z.string({ error: "expected a string" }).nullish() }, { error: "expected an object" });

export type StartConfig = z.infer<typeof configSchema>;

/** Parses params, or returns the problem text for `Invalid params for <method>: <problem>`. */
export function parseStartParams(params: unknown): { sandbox: string; config?: StartConfig | null } | string {
  return parseWith(startSchema, params);
}

export function parseStopParams(params: unknown): { sandbox: string } | string {
  return parseWith(stopSchema, params);
}

export function parseMetricsParams(params: unknown): { sandbox?: string | null } | string {
  return parseWith(metricsSchema, params);
}

/** Validates one stored Sandboxfile entry with the same rules (hand-edited files may be wrong). */
export function parseStoredEntry(value: unknown): (StartConfig & { image: string }) | string {
  const parsed = parseWith(configSchema, value);
  if (typeof parsed === "string") return parsed;
  if (parsed.image === undefined) return "image: missing";
  return { ...parsed, image: parsed.image };
}

/** The entry written for a config with an image: legacy key order, only given / non-empty fields. */
export function toSandboxfileEntry(config: StartConfig & { image: string }): SandboxfileEntry {
  const entry: SandboxfileEntry = { image: config.image };
  if (config.memory !== undefined) entry.memory = config.memory;
  if (config.cpus !== undefined) entry.cpus = config.cpus;
  if (config.volumes.length > 0) entry.volumes = config.volumes;
  if (config.readonly_volumes.length > 0) entry.readonly_volumes = config.readonly_volumes;
  if (config.ports.length > 0) entry.ports = config.ports;
  if (config.envs.length > 0) entry.envs = config.envs;
  if (config.depends_on.length > 0) entry.depends_on = config.depends_on;
  if (config.workdir !== undefined) entry.workdir = config.workdir;
  if (config.shell !== undefined) entry.shell = config.shell;
  if (Object.keys(config.scripts).length > 0) entry.scripts = config.scripts;
  if (config.exec !== undefined) entry.exec = config.exec;
  return entry;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T | string {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) return "invalid value";
  const where = issue.path.map(String).join(".");
  return where ? `${where}: ${issue.message}` : issue.message;
}
