import type { CallOptions } from "../backend/backend.js";
import { internalsOf } from "./internals.js";

/** One `sandbox.metrics.get` row as upstream returns it from `metrics.all()` (`{}` when absent). */
export interface MetricsSnapshot {
  name?: string;
  running?: boolean;
  /** Percent. */
  cpu_usage?: number | null;
  /** MiB. */
  memory_usage?: number | null;
  /** Bytes of the sandbox's writable layer. */
  disk_usage?: number | null;
  namespace?: string;
}

/** `sandbox.metrics`: resource usage of this sandbox. */
export class Metrics {
  readonly #sandbox: object;

  constructor(sandbox: object) {
    this.#sandbox = sandbox;
  }

  /** The sandbox's metrics row, or `{}` if the server lists none. */
  async all(options?: CallOptions): Promise<MetricsSnapshot> {
    const { backend, name } = internalsOf(this.#sandbox).requireStarted();
    const rows = await backend.metrics(name, options);
    return rows.find((r) => r.name === name) ?? rows[0] ?? {};
  }

  /** CPU usage in percent; undefined when not running or unknown. */
  async cpu(options?: CallOptions): Promise<number | undefined> {
    return (await this.all(options)).cpu_usage ?? undefined;
  }

  /** Memory usage in MiB; undefined when not running or unknown. */
  async memory(options?: CallOptions): Promise<number | undefined> {
    return (await this.all(options)).memory_usage ?? undefined;
  }

  /** Disk usage in bytes; undefined when unknown. */
  async disk(options?: CallOptions): Promise<number | undefined> {
    return (await this.all(options)).disk_usage ?? undefined;
  }

  /** Whether the server reports the sandbox as running. */
  async isRunning(options?: CallOptions): Promise<boolean> {
    return (await this.all(options)).running ?? false;
  }
}
