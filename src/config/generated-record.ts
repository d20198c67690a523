import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import * as path from "node:path";
import { ConfigError, ConfigWriteError } from "../errors/index.js";
import { generatedConfigPath, readGeneratedFile, writeGeneratedRecord } from "./generated-config.js";
import type { ResolvedSandboxConfig } from "./types.js";

// The generated record (generated-config.ts) is a convenience: the legacy SDK wrote nothing, so a
// drop-in must never fail a call because it cannot be written. The record goes to
// `<projectDir>/.microsandbox/generated/`, else to a per-project folder in the user's cache, else
// nowhere; each fallback warns once per process (process.emitWarning, code MSBV_GENERATED_FALLBACK).

const warned = new Set<string>();

/**
 * `$XDG_CACHE_HOME/microsandbox-volumes/generated/<hash>` (default `~/.cache/...`); the hash of the
 * project folder keeps two projects' sandboxes of the same name apart.
 */
export function fallbackGeneratedDir(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME || homedir(), ".cache");
  const hash = createHash("sha256").update(path.resolve(projectDir)).digest("hex").slice(0, 16);
  return path.join(cache, "microsandbox-volumes", "generated", hash);
}

function fallbackPath(projectDir: string, name: string, env: NodeJS.ProcessEnv): string {
  // generatedConfigPath validates the name, so it cannot leave the folder either.
  return path.join(fallbackGeneratedDir(projectDir, env), path.basename(generatedConfigPath(projectDir, name)));
}

/** Writes the record; returns where it went (undefined when nowhere). Never throws for a write failure. */
export async function recordStart(
  projectDir: string,
  sandbox: ResolvedSandboxConfig,
  serverUrl: string,
  wire: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const primary = generatedConfigPath(projectDir, sandbox.name);
  try {
    await writeGeneratedRecord(primary, sandbox, serverUrl, wire);
    return primary;
  } catch (e) {
    if (!(e instanceof ConfigWriteError)) throw e;
    const fallback = fallbackPath(projectDir, sandbox.name, env);
    try {
      await writeGeneratedRecord(fallback, sandbox, serverUrl, wire);
      warnOnce(`${projectDir}:fallback`, `cannot write ${primary} (${causeText(e)}); the generated config is kept in ${fallback} instead`);
      return fallback;
    } catch (e2) {
      if (!(e2 instanceof ConfigWriteError)) throw e2;
      warnOnce(`${projectDir}:none`, `cannot write the generated config to ${primary} nor ${fallback} (${causeText(e2)}); starting without it`);
      return undefined;
    }
  }
}

/** The last recorded sandbox for `name`: the newer of the project record and the cache fallback. */
export async function readRecordedStart(
  projectDir: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedSandboxConfig | undefined> {
  const candidates = [generatedConfigPath(projectDir, name), fallbackPath(projectDir, name, env)];
  let best: { mtime: number; sandbox: ResolvedSandboxConfig } | undefined;
  for (const file of candidates) {
    const mtime = await stat(file).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (mtime === undefined || (best && best.mtime >= mtime)) continue;
    let found: Awaited<ReturnType<typeof readGeneratedFile>>;
    try {
      found = await readGeneratedFile(file);
    } catch (e) {
      // A damaged record is the user's to see (ConfigError names file and line); an unreadable one is skipped.
      if (e instanceof ConfigError) throw e;
      continue;
    }
    if (found) best = { mtime, sandbox: found.sandbox };
  }
  return best?.sandbox;
}

function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, { type: "MicrosandboxWarning", code: "MSBV_GENERATED_FALLBACK" });
}

function causeText(e: ConfigWriteError): string {
  return e.cause instanceof Error ? e.cause.message : e.message;
}
