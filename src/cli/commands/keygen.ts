import { access } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { mintApiKey, parseKeygenDuration, readOrCreateServerKey, serverKeyPath } from "../../server/index.js";
import type { CliContext } from "../context.js";
import { note, printJson, printLine } from "../output.js";
import { rejectTail } from "./tail.js";

/**
 * `msbv keygen [--expire 24h]`: mints an API key from the server key file, like `msb server keygen`.
 * The one command that prints a key: that is its purpose, and it goes to stdout only.
 */
export function registerKeygen(program: Command, ctx: CliContext): void {
  program
    .command("keygen")
    .description("mint an API key signed with the server key ($MICROSANDBOX_HOME/server.key)")
    .option("-e, --expire <duration>", "lifetime: 30m, 12h, 7d, 2w, 1mo, 1y (no unit = hours)", "24h")
    .option("--json", "print {token, expires} as JSON")
    .action(async (opts: { expire: string; json?: boolean }) => {
      rejectTail(ctx, "keygen");
      const lifetime = parseKeygenDuration(opts.expire);
      // Same home the dev server uses, so a key minted here works against `msbv dev-server`.
      const home = resolve(process.env.MICROSANDBOX_HOME ?? join(homedir(), ".microsandbox"));
      const keyFile = serverKeyPath(home);
      const existed = await access(keyFile).then(
        () => true,
        () => false,
      );
      const secret = await readOrCreateServerKey(home);
      if (!existed) note(`created the server key file ${keyFile}`);
      const now = Math.floor(Date.now() / 1000);
      const token = await mintApiKey(secret, { expiresInSeconds: lifetime, now });
      const expires = rfc3339(now + lifetime);
      if (opts.json) {
        printJson({ token, expires });
        return;
      }
      printLine(`Token: ${token}`);
      printLine(`Token expires: ${expires}`);
    });
}

/** RFC 3339 in UTC without fractional seconds, e.g. `2026-11-27T19:23:00Z`. */
function rfc3339(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
