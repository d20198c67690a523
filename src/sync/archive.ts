import { Header, Parser, Pax, type ReadEntry } from "tar";

// Archives are built and read in memory with the `tar` package's header codec, so no host file is
// opened by path here: the host side reads through Workspace (symlink-safe) and hands over bytes, and
// an archive from the sandbox is only parsed, never unpacked onto the disk by `tar`.

/** One member to pack. */
export interface PackEntry {
  path: string;
  type: "File" | "Directory";
  mode: number;
  mtime: Date;
  data?: Uint8Array;
}

/** One member as read from an archive, whatever its kind (validation is the caller's job). */
export interface ArchiveMember {
  path: string;
  /** tar's entry type name: `File`, `OldFile`, `Directory`, `SymbolicLink`, `Link`, `CharacterDevice`… */
  type: string;
  linkpath?: string;
  size: number;
  /** Permission bits from the header. */
  mode: number;
  /** The member's bytes as the parser handed them over, not joined (a large file is not copied once more). */
  pieces: Buffer[];
}

const BLOCK = 512;

/** A POSIX (pax) tar of `entries` in order; names too long for ustar get a pax header, as GNU tar reads them. */
export function packArchive(entries: readonly PackEntry[]): Buffer {
  return Buffer.concat(packArchiveParts(entries));
}

/**
 * The same archive as consecutive pieces that share the files' bytes instead of copying them: a large
 * file is not copied into one more buffer of its size before it is sent.
 */
export function packArchiveParts(entries: readonly PackEntry[]): Buffer[] {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const size = e.type === "File" ? (e.data?.length ?? 0) : 0;
    const path = e.type === "Directory" ? `${e.path}/` : e.path;
    // A time before 1970 is encoded in base 256, whole seconds only (a fraction throws): such files
    // keep their second, not its fraction.
    const ms = e.mtime.getTime();
    const mtime = ms < 0 ? new Date(Math.floor(ms / 1000) * 1000) : e.mtime;
    const data = { path, type: e.type, mode: e.mode & 0o7777, size, mtime, uid: 0, gid: 0 } as const;
    const header = new Header(data);
    if (header.encode()) blocks.push(new Pax({ path, size, mtime }).encode());
    if (!header.block) throw new Error(`tar header for ${e.path} could not be encoded`);
    blocks.push(header.block);
    if (size > 0 && e.data) {
      blocks.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength));
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return blocks;
}

/** Every member of a tar held in memory. Rejects on a damaged archive (strict mode: bad checksums, truncation). */
export function readArchive(archive: Buffer | readonly Buffer[]): Promise<ArchiveMember[]> {
  return new Promise((resolve, reject) => {
    const members: ArchiveMember[] = [];
    const pending: Promise<void>[] = [];
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const chunks: Buffer[] = [];
        pending.push(
          new Promise<void>((done) => {
            entry.on("data", (c: Buffer) => chunks.push(c));
            entry.on("end", () => {
              members.push({
                path: entry.path,
                type: entry.type,
                ...(entry.linkpath ? { linkpath: entry.linkpath } : {}),
                size: entry.size,
                mode: (entry.mode ?? 0o644) & 0o7777,
                pieces: chunks,
              });
              done();
            });
          }),
        );
      },
    });
    parser.on("error", reject);
    parser.on("end", () => {
      Promise.all(pending).then(() => resolve(members), reject);
    });
    if (Buffer.isBuffer(archive)) parser.end(archive);
    else {
      for (const part of archive) parser.write(part);
      parser.end();
    }
  });
}
