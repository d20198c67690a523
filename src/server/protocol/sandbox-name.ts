import { type SandboxNameProblem, sandboxNameProblem } from "../../names/sandbox-name.js";
import { validationError } from "./json-rpc.js";

// The legacy server's exact sentences; clients may match on them (docs/protocol.md#sandbox-names).
const LEGACY_MESSAGE: Record<SandboxNameProblem, string> = {
  empty: "Sandbox name cannot be empty",
  "too-long": "Sandbox name cannot exceed 63 characters",
  "bad-characters": "Sandbox name can only contain alphanumeric characters, hyphens, or underscores",
  "bad-start": "Sandbox name must start with an alphanumeric character",
};

/** Throws the legacy 400/2001 for the first rule `name` breaks. */
export function validateSandboxName(name: string): void {
  const problem = sandboxNameProblem(name);
  if (problem !== undefined) throw validationError(LEGACY_MESSAGE[problem]);
}
