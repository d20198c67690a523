import { ErrorCodes, InvalidOptionError, MsbvError, ServerError } from "../../errors/index.js";
import { unavailableFromBoot } from "./unavailable.js";

/** The SDK's typed errors carry a `code`; unknown start failures are plain Errors "[Variant] …". */
function sdkCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Boot failures: the VM process died before its agent answered, or the VM firmware is missing. */
export function isBootFailure(err: unknown): boolean {
  const message = messageOf(err);
  return /\[BootStart\]|agent relay|libkrunfw|KVM/i.test(message) || sdkCode(err) === "libkrunfwNotFound";
}

/** Maps an error from creating a sandbox to our typed errors (MsbvErrors pass through). */
export function mapCreateError(sandbox: string, image: string, err: unknown, runtimeLog: string | undefined): MsbvError {
  if (err instanceof MsbvError) return err;
  const message = messageOf(err);
  const code = sdkCode(err);
  if (isBootFailure(err)) return unavailableFromBoot(sandbox, message, runtimeLog);
  if (code === "invalidConfig") {
    return new InvalidOptionError(`Sandbox "${sandbox}": the embedded runtime refused the configuration: ${message}`, {
      cause: err,
      details: { sandbox },
    });
  }
  if (code === "image" || code === "imageNotFound" || /image/i.test(message)) {
    return new ServerError(ErrorCodes.SERVER_ERROR, `Sandbox "${sandbox}": cannot get image "${image}": ${message}`, undefined, {
      cause: err,
      hint: "check the image name and that its registry is reachable (or load it offline with `msb image load <docker-save.tar>`)",
      details: { sandbox, image, reason: "image" },
    });
  }
  return new ServerError(ErrorCodes.SERVER_ERROR, `Sandbox "${sandbox}" could not be started on the embedded backend: ${message}`, undefined, {
    cause: err,
    details: { sandbox, ...(runtimeLog !== undefined ? { runtimeLog } : {}) },
  });
}
