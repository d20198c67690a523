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

/** Thrown for unreadable/unparsable files; the server turns it into a generic 500. */
export class SandboxfileParseError extends DevServerError {}

/**
 * The project's Sandboxfile (YAML). Reads are lock-free because writes are atomic renames; writes
 * go through one in-process mutex (the dev server is the file's only writer) and use temp file +
 * fsync + rename, so a reader never sees half a file and concurrent starts never lose entries.
 * Concurrent upserts are committed together: while one write runs, the entries that arrive wait
 * and then go out in one load + write (a burst of 50 starts is not 50 serial fsyncs), and each
 * upsert resolves only once a write holding its entry is on disk.
 */
export class Sandboxfile {
  readonly path: string;
  readonly #mutex = new AsyncMutex();
  #batch: Array<{ name: string; entry: SandboxfileEntry; done: { resolve: () => void; reject: (error: unknown) => void } }> = [];

  constructor(projectDir: string) {
    this.path = join(projectDir, "Sandboxfile");
  }

  /** The raw entries (name → untyped value), or `undefined` when the file does not exist. */
  async readEntries(): Promise<Map<string, unknown> | undefined> {
    const doc = await this.#load();
    if (doc === undefined) return undefined;
    return entriesOf(doc);
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
      const doc = (await this.#load()) ?? parseDocument(DEFAULT_SANDBOXFILE);
      normalise(doc);
      // In arrival order, so the last upsert of a name wins, as with one write each.
      for (const { name, entry } of batch) doc.setIn(["sandboxes", name], doc.createNode(entry));
      // Legacy start (re)creates a missing project dir instead of failing.
      await mkdir(dirname(this.path), { recursive: true });
      await writeFileAtomic(this.path, doc.toString());
      for (const { done } of batch) done.resolve();
    } catch (error) {
      for (const { done } of batch) done.reject(error);
    }
  }

  async #load(): Promise<Document | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new SandboxfileParseError(`cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    const doc = parseDocument(text);
    if (doc.errors.length > 0) {
      throw new SandboxfileParseError(`cannot parse ${this.path}: ${doc.errors[0]?.message ?? "YAML error"}`);
    }
    return doc;
  }
}

// Legacy normalisation: non-mapping root → empty mapping; missing/non-mapping `sandboxes` → empty mapping.
function normalise(doc: Document): void {
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as typeof doc.contents;
  if (!isMap(doc.get("sandboxes"))) doc.set("sandboxes", doc.createNode({}));
}

function entriesOf(doc: Document): Map<string, unknown> {
  const root: unknown = doc.toJS();
  const sandboxes = isPlainObject(root) ? root.sandboxes : undefined;
  return new Map(isPlainObject(sandboxes) ? Object.entries(sandboxes) : []);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
