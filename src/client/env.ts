import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Loads `./.env` (relative to the working directory) only when `MSB_API_KEY` is unset, as the
 * upstream SDKs do with dotenv. Uses Node's own `process.loadEnvFile` (no dependency); like
 * dotenv it never overrides variables already set. A missing or unreadable file is ignored.
 */
export function loadDotEnvIfNeeded(cwd: string = process.cwd()): void {
  if (process.env.MSB_API_KEY !== undefined) return;
  const file = join(cwd, ".env");
  if (!existsSync(file)) return;
  try {
    process.loadEnvFile(file);
  } catch {
    // dotenv swallows read errors too; a broken .env must not make the constructor throw.
  }
}
