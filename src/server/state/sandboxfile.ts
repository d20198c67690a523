import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isMap, parseDocument, type Document } from "yaml";
import { DevServerError } from "../../errors/errors.js";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { AsyncMutex } from "./async-mutex.js";
import type { WireStartConfig } from "../../backend/wire.js";

/** Content of a fresh Sandboxfile, as the legacy server writes it. */
export const DEFAULT_SANDBOXFILE = "# Sandbox configurations\nsandboxes:\n";

/**
 * One entry as written by `sandbox.start`: the same fields as the wire config (one definition for both),
 * except that a raw request may leave out memory and cpus. Key order in the file is the legacy order,
 * applied where the entry is built.
 */
export type SandboxfileEntry = Omit<WireStartConfig, "memory" | "cpus"> & Partial<Pick<WireStartConfig, "memory" | "cpus">>;

/** One parse of the file: the document (only #commit changes it, after dropping it) and its entries. */
interface Parsed {
  /** The text parsed: the key, so a parse is reused only for the very same text. */
  text: string;
  doc: Document;
  sandboxes: ReadonlyMap<string, unknown>;
}

/** Thrown for unreadable/unparsable files; the server turns it into a generic 500. */
export class SandboxfileParseError extends DevServerError {}

/**
 * The project's Sandboxfile (YAML). Reads are lock-free because writes are atomic renames; writes
 * go through one in-process mutex (the dev server is the file's only writer) and use temp file +
 * rename, so a reader never sees half a file and concurrent starts never lose entries.
 * Concurrent upserts are committed together: while one write runs, the entries that arrive wait
 * and then go out in one load + write, and each upsert resolves once a write holding its entry is
 * in place. Not fsynced (docs/dev-server.md, deviations): a start never waits on the journal, and
 * an empty file, all a power cut can leave, parses as no entries.
 *
 * Every start, stop and metrics call reads the file, and parsing a Sandboxfile of a few hundred
 * entries costs milliseconds of the server's one thread, so the last parse is kept with the text it
 * came from and reused while the file still reads as that text. The file is read every time (a few
 * KB, microseconds): its identity (inode, size, mtime) is no key, because another writer's rename
 * between our rename and a stat would be taken for our own write, and an in-place edit of the same
 * size within one timestamp tick would keep it.
 */
export class Sandboxfile {
  readonly path: string;
  readonly #mutex = new AsyncMutex();
  #parsed: Parsed | undefined;
  #batch: Array<{ name: string; entry: SandboxfileEntry; done: { resolve: () => void; reject: (error: unknown) => void } }> = [];

  constructor(projectDir: string) {
    this.path = join(projectDir, "Sandboxfile");
  }

  /** The raw entries (name → untyped value), or `undefined` when the file does not exist. */
  async readEntries(): Promise<Map<string, unknown> | undefined> {
    const parsed = await this.#read();
    return parsed === undefined ? undefined : new Map(parsed.sandboxes);
  }

  /** Inserts or wholesale-replaces `name`'s entry, creating the file when missing. */
  upsert(name: string, entry: SandboxfileEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#batch.push({ name, entry, done: { resolve, reject } });
      // The first upsert of a batch schedules its write; the ones queued meanwhile join it.
      if (this.#batch.length === 1) void this.#mutex.run(() => this.#commit());
    });
  }

  async #commit(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    try {
      const doc = (await this.#read())?.doc ?? parseSandboxfile(this.path, DEFAULT_SANDBOXFILE);
      // The kept parse is changed in place below: dropped first, so a failed write leaves none.
      this.#parsed = undefined;
      normalise(doc);
      // In arrival order, so the last upsert of a name wins, as with one write each.
      for (const { name, entry } of batch) doc.setIn(["sandboxes", name], doc.createNode(entry));
      // Legacy start (re)creates a missing project dir instead of failing.
      await mkdir(dirname(this.path), { recursive: true });
      const text = doc.toString();
      await writeFileAtomic(this.path, text, { durable: false });
      // Kept under the text written: a later read reuses it only if the file still reads as that text.
      this.#parsed = { text, doc, sandboxes: entriesOf(doc) };
      for (const { done } of batch) done.resolve();
    } catch (error) {
      for (const { done } of batch) done.reject(error);
    }
  }

  /** The file parsed, again only when its text is not the text parsed last. */
  async #read(): Promise<Parsed | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new SandboxfileParseError(`cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    if (this.#parsed?.text === text) return this.#parsed;
    const doc = parseSandboxfile(this.path, text);
    const parsed = { text, doc, sandboxes: entriesOf(doc) };
    this.#parsed = parsed;
    return parsed;
  }
}

function parseSandboxfile(file: string, text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new SandboxfileParseError(`cannot parse ${file}: ${doc.errors[0]?.message ?? "YAML error"}`);
  return doc;
}

// Legacy normalisation: non-mapping root → empty mapping; missing/non-mapping `sandboxes` → empty mapping.
function normalise(doc: Document): void {
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as typeof doc.contents;
  if (!isMap(doc.get("sandboxes"))) doc.set("sandboxes", doc.createNode({}));
}

/** The entries, frozen: the cached ones are handed to every reader, and none may change them. */
function entriesOf(doc: Document): ReadonlyMap<string, unknown> {
  const root: unknown = doc.toJS();
  const sandboxes = isPlainObject(root) ? root.sandboxes : undefined;
  return new Map(isPlainObject(sandboxes) ? Object.entries(sandboxes).map(([name, entry]) => [name, deepFreeze(entry)]) : []);
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
