// What every section needs from the library under test, loaded lazily so the floor measurements
// run even while the client or the dev server is not built yet.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTmp } from "./tmp.mjs";

/**
 * @returns {Promise<{ ok: true, PythonSandbox: any } | { ok: false, reason: string }>}
 */
export async function loadLibrary() {
  try {
    const root = await import("microsandbox-volumes");
    const server = await import("microsandbox-volumes/server");
    if (typeof root.PythonSandbox?.create !== "function") return { ok: false, reason: "PythonSandbox.create not exported" };
    if (typeof server.startDevServer !== "function") return { ok: false, reason: "startDevServer not exported" };
    return { ok: true, PythonSandbox: root.PythonSandbox };
  } catch (e) {
    return { ok: false, reason: `cannot import the built package (${e instanceof Error ? e.message.split("\n")[0] : e})` };
  }
}

/**
 * A throwaway project dir with its own microsandbox.toml, so relative volumes ("./ws:/workspace")
 * resolve inside it and the repo's own config file is never picked up.
 * @param {string} label
 */
export async function newProject(label) {
  const dir = await makeTmp(label);
  await writeFile(join(dir, "microsandbox.toml"), "# bench project\n");
  return dir;
}

/**
 * Creates (starts) a Python sandbox against `serverUrl`, volumes relative to `project`.
 * @param {any} PythonSandbox
 * @param {{ project: string, serverUrl: string, name: string, workspaces?: string[] }} o
 *   workspaces: folder names under `project`, bound to /workspace (first) — created here.
 */
export async function createSandbox(PythonSandbox, { project, serverUrl, name, workspaces = [] }) {
  for (const w of workspaces) await mkdir(join(project, w), { recursive: true });
  return PythonSandbox.create({
    name,
    serverUrl,
    configPath: join(project, "microsandbox.toml"),
    volumes: workspaces.map((w) => `./${w}:/workspace`),
  });
}

/** Runs Python and throws with the sandbox's stderr if the code raised. */
export async function runChecked(sb, code) {
  const ex = await sb.run(code);
  if (ex.hasError()) throw new Error(`sandbox code failed: ${(await ex.error()).slice(0, 500)}`);
  return ex;
}

/** Stops every sandbox given, never throwing (cleanup path). */
export async function stopAll(sandboxes) {
  await Promise.all(sandboxes.map((sb) => sb?.stop().catch(() => undefined)));
}
