import type { ArchiveMember } from "./archive.js";
import { relPathProblem } from "./rel-paths.js";

/** A file accepted from a sandbox archive. */
export interface AcceptedFile {
  /** The file's bytes, in pieces (see ArchiveMember.pieces). */
  pieces: readonly Buffer[];
  size: number;
  /** Permission bits only (no setuid/setgid/sticky). */
  mode: number;
}

/**
 * Accepts an archive from the sandbox only if it holds exactly the requested regular files (folders are
 * tolerated and ignored), each once, with safe relative names. Symlinks, hard links, devices, FIFOs,
 * absolute names, `..`, unrequested or duplicate members reject the whole archive: it comes from code we
 * do not trust, so nothing of it is written. Returns the problems, or the files by path.
 */
export function checkArchive(
  members: readonly ArchiveMember[],
  requested: ReadonlySet<string>,
): { files: Map<string, AcceptedFile>; problems: string[] } {
  const files = new Map<string, AcceptedFile>();
  const problems: string[] = [];
  for (const m of members) {
    const isDir = m.type === "Directory";
    const name = isDir ? m.path.replace(/\/+$/, "") : m.path;
    const problem = relPathProblem(name);
    if (problem) {
      problems.push(`${JSON.stringify(m.path)}: ${problem}`);
      continue;
    }
    if (isDir) continue;
    if (m.type !== "File" && m.type !== "OldFile") {
      const target = m.linkpath !== undefined ? ` -> ${JSON.stringify(m.linkpath)}` : "";
      problems.push(`${JSON.stringify(name)}: a ${m.type}${target}, only regular files are accepted`);
    } else if (!requested.has(name)) {
      problems.push(`${JSON.stringify(name)}: not requested`);
    } else if (files.has(name)) {
      problems.push(`${JSON.stringify(name)}: appears twice`);
    } else {
      const received = m.pieces.reduce((n, piece) => n + piece.length, 0);
      if (received !== m.size) problems.push(`${JSON.stringify(name)}: ${received} bytes, header says ${m.size}`);
      else files.set(name, { pieces: m.pieces, size: received, mode: m.mode & 0o777 });
    }
  }
  for (const r of requested) if (!files.has(r)) problems.push(`${JSON.stringify(r)}: requested but missing`);
  return { files, problems };
}
