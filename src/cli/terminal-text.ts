// Text from a server or a sandbox is attacker-controlled. Written raw to a terminal, ESC/CSI/OSC
// sequences can set the window title, write the clipboard (OSC 52), clear the screen or hide lines
// (docs/security.md, "Terminal escape sequences"). This is the one place that makes such text inert.

/**
 * Every control character except `\n`, `\t` (and `\r` directly before `\n`) shown visibly: C0 and DEL
 * in caret notation (`\x1b` → `^[`, `\x07` → `^G`, DEL → `^?`), C1 (U+0080–U+009F, 8-bit CSI/OSC on
 * some terminals) as `\u009b`. Printable text, including non-ASCII, is unchanged.
 */
export function neutraliseControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/\r(?!\n)|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return "^?";
    return `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * Sandbox output for `stream`: neutralised when the stream is a terminal, byte-exact when it is piped
 * or redirected (a program reading it wants the real bytes) or when the user asked for `--raw`.
 */
export function sandboxOutputFor(stream: { isTTY?: boolean }, text: string, raw: boolean): string {
  return stream.isTTY === true && !raw ? neutraliseControls(text) : text;
}
