import { validationError } from "./json-rpc.js";

/** Legacy name rules, checked in this order (spec §3.1); each failure is a 400/2001. */
export function validateSandboxName(name: string): void {
  if (name.length === 0) throw validationError("Sandbox name cannot be empty");
  if (Buffer.byteLength(name, "utf8") > 63) throw validationError("Sandbox name cannot exceed 63 characters");
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw validationError("Sandbox name can only contain alphanumeric characters, hyphens, or underscores");
  }
  if (!/^[A-Za-z0-9]/.test(name)) throw validationError("Sandbox name must start with an alphanumeric character");
}
