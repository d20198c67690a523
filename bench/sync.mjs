// Sync mode (copy-in at start, hash-diffed copy-out at stop, for servers on another machine).
// Measured only when the build has it; otherwise the report says so instead of inventing a number.
/**
 * @param {{ log: (m: string) => void, lib: any }} ctx
 */
export async function benchSync(ctx) {
  void ctx;
  return { available: false, notes: ["sync mode: not available in this build"] };
}
