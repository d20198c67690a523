import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../../../src/errors/index.js";
import { mintApiKey, parseKeygenDuration, readOrCreateServerKey } from "../../../../src/server/index.js";
import { type TempDir, tempDir } from "../../../helpers/temp-dir.js";

describe("parseKeygenDuration", () => {
  const table: [string, number][] = [
    ["30s", 30],
    ["5m", 300],
    ["2h", 7200],
    ["3", 3 * 3600],
    ["1d", 86_400],
    ["2w", 14 * 86_400],
    ["1mo", 30 * 86_400],
    ["1y", 365 * 86_400],
  ];
  it.each(table)("%s → %i s", (text, seconds) => {
    expect(parseKeygenDuration(text)).toBe(seconds);
  });
  it.each(["", "h", "1.5h", "-1h", "1x", "1 mo", "1M"])("refuses %j", (text) => {
    expect(() => parseKeygenDuration(text)).toThrow(InvalidOptionError);
  });
});

describe("mintApiKey", () => {
  it("makes msb_ + HS256 JWT with integer iat/exp, 24 h by default", async () => {
    const key = await mintApiKey("s3cret", { now: 1_000_000 });
    expect(key.startsWith("msb_")).toBe(true);
    expect(decodeProtectedHeader(key.slice(4))).toStrictEqual({ typ: "JWT", alg: "HS256" });
    expect(decodeJwt(key.slice(4))).toStrictEqual({ iat: 1_000_000, exp: 1_000_000 + 86_400 });
  });
  it("honours expiresInSeconds", async () => {
    const key = await mintApiKey("s3cret", { now: 10, expiresInSeconds: 60 });
    expect(decodeJwt(key.slice(4))).toStrictEqual({ iat: 10, exp: 70 });
  });
});

describe("readOrCreateServerKey", () => {
  let home: string;
  let temp: TempDir;
  beforeEach(async () => {
    temp = await tempDir("msbv-key-");
    home = join(temp.path, "home");
  });
  afterEach(async () => temp.remove());

  it("creates a 32-char [A-Za-z0-9] key with mode 0600 and returns the same one afterwards", async () => {
    const first = await readOrCreateServerKey(home);
    expect(first).toMatch(/^[A-Za-z0-9]{32}$/);
    expect((await stat(join(home, "server.key"))).mode & 0o777).toBe(0o600);
    expect(await readOrCreateServerKey(home)).toBe(first);
    expect(await readFile(join(home, "server.key"), "utf8")).toBe(first);
  });

  it("uses an existing key exactly as stored", async () => {
    await readOrCreateServerKey(home);
    await writeFile(join(home, "server.key"), "my key \n");
    expect(await readOrCreateServerKey(home)).toBe("my key \n");
  });
});
