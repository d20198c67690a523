import { readFile } from "node:fs/promises";
import { MsbvError } from "../errors/msbv-error.js";
import type { VolumeSpec } from "../volumes/index.js";
import { createKeyLocator, formatKeyPath, type KeyPath } from "./key-locator.js";
import type { LoadedConfig } from "./types.js";

/**
 * A volume problem names the merged list's index (`volumes[2] "./data:/data"`), which says nothing
 * about where it was written. For volumes that came from microsandbox.toml, this rewrites each label
 * to `file:line:column sandboxes.<name>.volumes[i] "spec"` and adds file/line/keyPath to
 * `details.problems`. Volumes given in the call keep their label. Returns `err` (changed in place).
 */
export async function locateVolumeProblems(err: unknown, merged: readonly VolumeSpec[], file: LoadedConfig, name: string): Promise<unknown> {
  if (!(err instanceof MsbvError) || !Array.isArray(err.details.problems)) return err;
  const origins = new Map<VolumeSpec, KeyPath>();
  const declare = (specs: readonly VolumeSpec[] | undefined, table: KeyPath) =>
    (specs ?? []).forEach((spec, i) => {
      origins.set(spec, [...table, "volumes", i]);
    });
  declare(file.defaults.volumes, ["defaults"]);
  declare(file.sandboxes[name]?.volumes, ["sandboxes", name]);
  let source: string;
  try {
    source = await readFile(file.path, "utf8");
  } catch {
    return err;
  }
  const locator = createKeyLocator(source);
  let message = err.message;
  for (const problem of err.details.problems as Array<Record<string, unknown>>) {
    const index = problem.index;
    if (typeof index !== "number") continue;
    const spec = merged[index];
    const keyPath = spec === undefined ? undefined : origins.get(spec);
    if (!keyPath) continue;
    const pos = locator.valueAt(keyPath);
    if (!pos) continue;
    const label = `volumes[${index}] ${JSON.stringify(problem.source)}`;
    const located = `${file.path}:${pos.line}:${pos.column} ${formatKeyPath(keyPath)} ${JSON.stringify(problem.source)}`;
    message = message.replace(label, located);
    Object.assign(problem, { file: file.path, line: pos.line, column: pos.column, keyPath: formatKeyPath(keyPath) });
  }
  // Error.message is a plain own property; the code, class, hint and cause stay as they were.
  err.message = message;
  return err;
}
