import { NODE_DRIVER } from "./node-driver.js";
import { PYTHON_DRIVER } from "./python-driver.js";
import type { RuntimeLanguage } from "./images.js";

/** Legacy `language` values (any case) → driver; shared with the embedded backend. */
export const LANGUAGES: Record<string, RuntimeLanguage> = {
  python: "python",
  node: "node",
  nodejs: "node",
  javascript: "node",
};

/**
 * The argv that starts a REPL driver: shared by the dev server (host interpreters bound into the
 * sandbox) and the embedded backend (`python3` / `node` on the microVM image's PATH).
 */
export function driverArgv(language: RuntimeLanguage, interpreter: string): string[] {
  return language === "python" ? [interpreter, "-u", "-c", PYTHON_DRIVER] : [interpreter, "-e", NODE_DRIVER];
}
