import { workdirIssue } from "../volumes/guest-paths.js";
// One rule per sandbox option, shared by the file schema and the call-option checks so a value is
// judged the same wherever it comes from. Each rule returns the problem as a sentence, or undefined.
// The rules are strict on purpose: the legacy server writes whatever it gets into its Sandboxfile and
// one bad string there breaks every later start (docs/protocol.md#config-strings), so nothing doubtful may leave here.

import { SANDBOX_NAME_MAX_BYTES, sandboxNameProblem } from "../names/sandbox-name.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SCRIPT_NAME = /^[A-Za-z0-9_.-]+$/;
const PORT = /^[0-9]{1,5}$/;

/** The sandbox name rule (src/names/sandbox-name.ts) as a sentence naming the value. */
export function checkSandboxName(name: unknown): string | undefined {
  if (typeof name !== "string") return `must be a string, got ${describe(name)}`;
  switch (sandboxNameProblem(name)) {
    case undefined:
      return undefined;
    case "empty":
      return "sandbox name cannot be empty";
    case "too-long":
      return `sandbox name "${name}" is longer than ${SANDBOX_NAME_MAX_BYTES} characters`;
    case "bad-characters":
      return `sandbox name "${name}" may only contain letters, digits, "-" and "_"`;
    case "bad-start":
      return `sandbox name "${name}" must start with a letter or digit`;
  }
}

/** Memory in MiB: a positive whole number that fits the server's u32. */
export function checkMemory(memory: unknown): string | undefined {
  if (typeof memory !== "number" || !Number.isInteger(memory) || memory <= 0 || memory > 0xffff_ffff) {
    return `memory must be a whole number of MiB greater than 0, got ${describe(memory)}`;
  }
  return undefined;
}

/** CPUs as sent on the wire: a whole number 1–255 (the server's u8; 0 boots nothing). */
export function checkCpus(cpus: unknown): string | undefined {
  if (typeof cpus !== "number" || !Number.isInteger(cpus) || cpus < 1 || cpus > 255) {
    return `cpus must be a whole number from 1 to 255, got ${describe(cpus)}`;
  }
  return undefined;
}

/** Upstream JS rounds cpus (`Math.round`); a call option is rounded the same way before the check. */
export function roundCpus(cpus: unknown): unknown {
  return typeof cpus === "number" && Number.isFinite(cpus) ? Math.round(cpus) : cpus;
}

export function checkEnvName(name: string): string | undefined {
  if (!ENV_NAME.test(name)) {
    return `environment variable name "${name}" must match [A-Za-z_][A-Za-z0-9_]*`;
  }
  return undefined;
}

export function checkEnvValue(name: string, value: unknown): string | undefined {
  if (typeof value !== "string") return `value of ${name} must be a string, got ${describe(value)}`;
  if (/[\0\r\n]/.test(value)) return `value of ${name} contains a NUL or newline character`;
  return undefined;
}

/** `NAME=value` as the wire wants it. */
export function checkEnvEntry(entry: unknown): string | undefined {
  if (typeof entry !== "string") return `env entry must be a "NAME=value" string, got ${describe(entry)}`;
  const eq = entry.indexOf("=");
  if (eq < 0) return `env entry "${clip(entry)}" has no "=": write it as NAME=value`;
  const name = entry.slice(0, eq);
  return checkEnvName(name) ?? checkEnvValue(name, entry.slice(eq + 1));
}

/** Where sandboxes run: the legacy JSON-RPC wire (a server or `msbv dev-server`), or real microVMs in-process. */
export const BACKEND_KINDS = ["rpc", "embedded"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export function checkBackend(backend: unknown): string | undefined {
  return typeof backend === "string" && (BACKEND_KINDS as readonly string[]).includes(backend)
    ? undefined
    : `backend must be "rpc" or "embedded", got ${describe(backend)}`;
}

/** `host:guest` or one port (the same on both sides); every number 1–65535. */
export function checkPort(port: unknown): string | undefined {
  const text = typeof port === "number" ? String(port) : port;
  if (typeof text !== "string") return `port must be a string like "8080:80", got ${describe(port)}`;
  const parts = text.split(":");
  const ok = parts.length <= 2 && parts.every((p) => PORT.test(p) && Number(p) >= 1 && Number(p) <= 65535);
  if (!ok) return `port "${clip(text)}" must be "host:guest" or a single port, each 1-65535`;
  return undefined;
}

/** Absolute, no `..` segment, no `:` (the server splits on it), no control characters. */
export function checkWorkdir(workdir: unknown): string | undefined {
  if (typeof workdir !== "string") return `workdir must be a string, got ${describe(workdir)}`;
  return workdirIssue(workdir);
}

export function checkImage(image: unknown): string | undefined {
  if (typeof image !== "string") return `image must be a string, got ${describe(image)}`;
  if (image.length === 0) return "image cannot be empty";
  if (/[\s\0]/.test(image)) return `image "${clip(image)}" must not contain whitespace`;
  return undefined;
}

export function checkShell(shell: unknown): string | undefined {
  if (typeof shell !== "string") return `shell must be a string, got ${describe(shell)}`;
  if (shell.length === 0) return "shell cannot be empty";
  if (/[\0\r\n]/.test(shell)) return "shell must not contain NUL or newline characters";
  return undefined;
}

/** Script names become files under `/.sandbox/scripts/` on the server side. */
export function checkScriptName(name: string): string | undefined {
  if (!SCRIPT_NAME.test(name) || name === "." || name === "..") {
    return `script name "${clip(name)}" may only contain letters, digits, ".", "-" and "_"`;
  }
  return undefined;
}

/** A script named `start` replaces the image command, i.e. the portal of the SDK images (docs/protocol.md#start-config). */
export function checkStartScript(scripts: Record<string, unknown> | undefined, image: string | undefined): string | undefined {
  if (scripts && Object.hasOwn(scripts, "start") && isPortalImage(image)) {
    return `a script named "start" would replace the portal of image ${image ?? "microsandbox/*"} and no code could run`;
  }
  return undefined;
}

/** microsandbox/* images (with or without registry or tag) run the portal as their main process. */
export function isPortalImage(image: string | undefined): boolean {
  if (image === undefined) return true; // the built-in defaults are microsandbox images
  const withoutRegistry = image.replace(/^(docker\.io\/|registry-1\.docker\.io\/)/, "");
  return withoutRegistry.startsWith("microsandbox/");
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(clip(value));
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return "a date";
  return typeof value === "object" ? "a table" : typeof value;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
