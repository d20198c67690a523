/**
 * One-at-a-time section for async code inside this process. The dev server is the only writer
 * of its Sandboxfile, so an in-process lock is enough to keep read-modify-write cycles whole.
 */
export class AsyncMutex {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after every previously queued section has finished (whether it failed or not). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
