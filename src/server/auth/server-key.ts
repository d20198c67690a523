import { randomInt } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DevServerError } from "../../errors/errors.js";

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const KEY_LENGTH = 32;

/** Path of the signing secret inside a microsandbox home, as `msb server start` uses it. */
export function serverKeyPath(home: string): string {
  return join(home, "server.key");
}

/**
 * Returns the server's JWT signing secret from `<home>/server.key`, creating the file (mode 0600,
 * 32 random `[A-Za-z0-9]` characters, like `msb server start`) when it does not exist. The content
 * is used exactly as stored (no trimming), as upstream does.
 */
export async function readOrCreateServerKey(home: string): Promise<string> {
  const file = serverKeyPath(home);
  const existing = await readKey(file);
  if (existing !== undefined) return existing;
  await mkdir(home, { recursive: true });
  const fresh = Array.from({ length: KEY_LENGTH }, () => KEY_ALPHABET[randomInt(KEY_ALPHABET.length)]).join("");
  try {
    // `wx`: if another process created the key meanwhile, keep theirs instead of overwriting it.
    await writeFile(file, fresh, { mode: 0o600, flag: "wx" });
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      const raced = await readKey(file);
      if (raced !== undefined) return raced;
    }
    throw new DevServerError(`Could not create the server key file ${file}`, {
      cause: err,
      hint: "Check that the microsandbox home folder is writable, or pass an explicit key.",
    });
  }
}

async function readKey(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DevServerError(`Could not read the server key file ${file}`, {
      cause: err,
      hint: "Fix the file's permissions or pass an explicit key.",
    });
  }
  if (text.length === 0) {
    throw new DevServerError(`The server key file ${file} is empty`, {
      hint: "Delete the file to have a new key generated, or write a secret into it.",
    });
  }
  return text;
}
