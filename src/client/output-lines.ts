/** One line of sandbox output as the legacy server reports it. */
export interface OutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

/** Upstream joins a stream's lines with `\n` and trims both ends (JS SDK; Python only rstrips). */
export function joinStream(lines: readonly OutputLine[], stream: OutputLine["stream"]): string {
  return lines
    .filter((l) => l.stream === stream)
    .map((l) => l.text)
    .join("\n")
    .trim();
}
