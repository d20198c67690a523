import { describe, expect, it } from "vitest";
import { formatError } from "../../../src/cli/format-error.js";
import { neutraliseControls, sandboxOutputFor } from "../../../src/cli/terminal-text.js";
import { ErrorCodes, ServerError } from "../../../src/errors/index.js";

const ESC = "\x1b";
const BEL = "\x07";

describe("neutraliseControls", () => {
  it("keeps text, newlines, tabs and CRLF; renders ESC, BEL, lone CR, DEL and C1 visibly", () => {
    expect(neutraliseControls("a\tb\nc\r\nd ünï €")).toBe("a\tb\nc\r\nd ünï €");
    expect(neutraliseControls(`${ESC}]52;c;aGk=${BEL}`)).toBe("^[]52;c;aGk=^G"); // OSC 52 clipboard write
    expect(neutraliseControls(`${ESC}]0;pwned${BEL}`)).toBe("^[]0;pwned^G"); // window title
    expect(neutraliseControls(`${ESC}[2J${ESC}[H`)).toBe("^[[2J^[[H"); // clear screen
    expect(neutraliseControls("safe\roverwritten")).toBe("safe^Moverwritten");
    expect(neutraliseControls("\x00\x7f\x9b31m")).toBe("^@^?\\u009b31m");
  });
  it("leaves nothing a terminal would interpret", () => {
    const all = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join("");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
    expect(neutraliseControls(all).replace(/\r\n|[\n\t]/g, "")).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });
});

describe("sandboxOutputFor", () => {
  it("neutralises for a terminal, is byte-exact when piped or with --raw", () => {
    const text = `${ESC}]0;t${BEL}x\n`;
    expect(sandboxOutputFor({ isTTY: true }, text, false)).toBe("^[]0;t^Gx\n");
    expect(sandboxOutputFor({ isTTY: false }, text, false)).toBe(text);
    expect(sandboxOutputFor({}, text, false)).toBe(text);
    expect(sandboxOutputFor({ isTTY: true }, text, true)).toBe(text);
  });
});

describe("formatError", () => {
  it("always neutralises a server-originated message", () => {
    const err = new ServerError(ErrorCodes.SERVER_ERROR, `boom ${ESC}]52;c;ZXZpbA==${BEL}${ESC}[2J`, 500);
    const text = formatError(err);
    expect(text).not.toContain(ESC);
    expect(text).not.toContain(BEL);
    expect(text).toContain("boom ^[]52;c;ZXZpbA==^G^[[2J");
  });
});
