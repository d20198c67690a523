import { InvalidOptionError } from "../errors/index.js";
import { SANDBOX_NAME_RULE } from "../names/sandbox-name.js";
import type { VolumeSpec } from "../volumes/index.js";
import { checkServerUrl } from "./file-schema.js";
import {
  checkBackend,
  checkCpus,
  checkEnvEntry,
  checkImage,
  checkMemory,
  checkPort,
  checkSandboxName,
  checkScriptName,
  checkShell,
  checkWorkdir,
  describe,
  roundCpus,
} from "./option-rules.js";
import type { SandboxCallOptions } from "./types.js";

/** Call options after the checks: cpus rounded, ports as strings. */
export type CheckedCallOptions = Omit<SandboxCallOptions, "ports"> & { ports?: string[] };

type Problem = { option: string; message: string; hint: string };

/**
 * Checks every call option (JS callers get no help from the type checker) and throws one
 * InvalidOptionError listing each bad option with its fix. Volumes are checked later by src/volumes.
 */
export function checkCallOptions(input: SandboxCallOptions): CheckedCallOptions {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidOptionError(`sandbox options must be an object, got ${describe(input)}`, {
      hint: 'pass an options object such as { name: "agent" }, or nothing',
    });
  }
  // An empty serverUrl or apiKey means "not given" (upstream uses `||`), e.g. `apiKey: process.env.KEY ?? ""`.
  const { serverUrl, apiKey, ...others } = input;
  const options: SandboxCallOptions = {
    ...others,
    ...(serverUrl !== "" && serverUrl !== undefined ? { serverUrl } : {}),
    ...(apiKey !== "" && apiKey !== undefined ? { apiKey } : {}),
  };
  const problems: Problem[] = [];
  const check = (option: string, value: unknown, rule: (v: unknown) => string | undefined, hint: string) => {
    if (value === undefined) return;
    const message = rule(value);
    if (message) problems.push({ option, message, hint });
  };
  const list = (option: string, value: unknown, rule: (v: unknown) => string | undefined, hint: string) => {
    if (value === undefined) return;
    if (!Array.isArray(value)) problems.push({ option, message: `must be an array, got ${describe(value)}`, hint });
    else for (const [i, v] of value.entries()) check(`${option}[${i}]`, v, rule, hint);
  };

  check(
    "serverUrl",
    options.serverUrl,
    (v) => (typeof v === "string" ? checkServerUrl(v) : `must be a string, got ${describe(v)}`),
    'pass a URL such as "http://127.0.0.1:5555"',
  );
  check("name", options.name, checkSandboxName, `use ${SANDBOX_NAME_RULE}`);
  check(
    "apiKey",
    options.apiKey,
    (v) => (typeof v === "string" && !/\s/.test(v) ? undefined : "must be a string without whitespace"),
    "pass the key exactly as issued, or set MSB_API_KEY instead",
  );
  check("image", options.image, checkImage, 'pass an image reference such as "microsandbox/python"');
  check("memory", options.memory, checkMemory, "pass memory in MiB as a whole number, e.g. 512");
  const cpus = roundCpus(options.cpus);
  check(
    "cpus",
    cpus,
    (v) => {
      const problem = checkCpus(v);
      return problem && options.cpus !== v ? `${problem} (after rounding ${describe(options.cpus)})` : problem;
    },
    "pass a number of CPUs from 1 to 255",
  );
  list("ports", options.ports, checkPort, 'write ports as "hostPort:guestPort" or "port", each 1-65535');
  list("envs", options.envs, checkEnvEntry, 'write each env as "NAME=value" with NAME matching [A-Za-z_][A-Za-z0-9_]*');
  list("dependsOn", options.dependsOn, checkSandboxName, "name sandboxes by their server names");
  check("workdir", options.workdir, checkWorkdir, 'pass an absolute guest path such as "/workspace"');
  check("shell", options.shell, checkShell, 'pass a shell path such as "/bin/sh"');
  check("scripts", options.scripts, checkScripts, "pass { name: body } with names of letters, digits, '.', '-', '_'");
  check(
    "exec",
    options.exec,
    (v) => (typeof v === "string" && v.length > 0 && !/[\0]/.test(v) ? undefined : `must be a non-empty string, got ${describe(v)}`),
    "pass a command string, or leave exec out",
  );
  check(
    "timeout",
    options.timeout,
    (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : `must be a positive number of seconds, got ${describe(v)}`),
    "pass the start timeout in seconds, e.g. 180",
  );
  check(
    "configPath",
    options.configPath,
    (v) => (typeof v === "string" && v.length > 0 ? undefined : `must be a non-empty string, got ${describe(v)}`),
    "pass the path of a microsandbox.toml",
  );
  list(
    "allowHostPaths",
    options.allowHostPaths,
    (v) => (typeof v === "string" && v.length > 0 ? undefined : `must be a non-empty string, got ${describe(v)}`),
    "pass host folder paths",
  );
  check(
    "createVolumeDirs",
    options.createVolumeDirs,
    (v) => (typeof v === "boolean" ? undefined : `must be true or false, got ${describe(v)}`),
    "pass true or false",
  );
  check("backend", options.backend, checkBackend, 'pass "embedded" for real microVMs, or "rpc" (the default) for a server or `msbv dev-server`');
  if (options.volumes !== undefined && !Array.isArray(options.volumes)) {
    problems.push({ option: "volumes", message: `must be an array, got ${describe(options.volumes)}`, hint: 'pass ["./workspace:/workspace"]' });
  }

  if (problems.length > 0) throw optionsError(problems);
  const { ports, cpus: _unused, ...rest } = options;
  return {
    ...rest,
    ...(cpus === undefined ? {} : { cpus: cpus as number }),
    ...(ports === undefined ? {} : { ports: ports.map(String) }),
    ...(options.volumes === undefined ? {} : { volumes: options.volumes as VolumeSpec[] }),
  };
}

function checkScripts(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `must be an object, got ${describe(value)}`;
  for (const [name, body] of Object.entries(value)) {
    const problem = checkScriptName(name) ?? (typeof body === "string" ? undefined : `script "${name}" must be a string, got ${describe(body)}`);
    if (problem) return problem;
  }
  return undefined;
}

function optionsError(problems: readonly Problem[]): InvalidOptionError {
  const details = { problems: problems.map((p) => ({ ...p })) };
  const [first] = problems;
  if (problems.length === 1 && first) {
    return new InvalidOptionError(`invalid sandbox option ${first.option}: ${first.message}`, { hint: first.hint, details });
  }
  const lines = problems.map((p) => `  ${p.option}: ${p.message} (fix: ${p.hint})`).join("\n");
  return new InvalidOptionError(`${problems.length} invalid sandbox options:\n${lines}`, {
    hint: "fix each option listed above (every problem is reported, not only the first)",
    details,
  });
}
