import { loadConfigFile } from "../config/index.js";
import type { LoadedConfig } from "../config/types.js";
import { ErrorCodes, UnknownSandboxError, ValidationError } from "../errors/index.js";

/** A sandbox the config file declares, picked by name or by being the only one. */
export interface SandboxTarget {
  name: string;
  /** Which client class runs it: from the declared image (default: python, like upstream). */
  kind: "python" | "node";
  config: LoadedConfig;
}

/** The config file the library would use (`--config`/MSB_CONFIG, else discovery from cwd), if any. */
export function findConfig(): Promise<LoadedConfig | undefined> {
  return loadConfigFile({ cwd: process.cwd(), env: process.env });
}

/**
 * The declared sandbox a command acts on. Without a name the file must declare exactly one;
 * an undeclared name is refused with the declared names in the hint.
 */
export async function declaredSandbox(name: string | undefined): Promise<SandboxTarget> {
  const config = await findConfig();
  if (!config) {
    throw new ValidationError(ErrorCodes.CONFIG_INVALID, "No microsandbox.toml found in this folder or any parent", {
      hint: "run `msbv init` to create one, or pass --config PATH (or set MSB_CONFIG)",
    });
  }
  const declared = Object.keys(config.sandboxes);
  const picked = name ?? onlyOne(declared, config.path);
  const entry = config.sandboxes[picked];
  if (!entry) {
    throw new UnknownSandboxError(`Sandbox "${picked}" is not declared in ${config.path}`, {
      hint: declared.length
        ? `use one of: ${declared.join(", ")} (or add a [sandboxes.${picked}] table)`
        : `add a [sandboxes.${picked}] table to the file`,
      details: { name: picked, declared, file: config.path },
    });
  }
  const image = entry.image ?? config.defaults.image ?? "";
  return { name: picked, kind: kindOfImage(image), config };
}

/** `microsandbox/node` (any tag or registry prefix) runs as node; everything else as python. */
export function kindOfImage(image: string): "python" | "node" {
  const ref = image.split("@")[0] ?? "";
  const lastSlash = ref.lastIndexOf("/");
  const tagColon = ref.indexOf(":", lastSlash + 1);
  const repo = tagColon === -1 ? ref : ref.slice(0, tagColon);
  return repo.slice(lastSlash + 1) === "node" ? "node" : "python";
}

function onlyOne(declared: string[], file: string): string {
  if (declared.length === 1 && declared[0] !== undefined) return declared[0];
  throw new UnknownSandboxError(
    declared.length === 0 ? `${file} declares no sandboxes` : `${file} declares ${declared.length} sandboxes; name the one to use`,
    {
      hint: declared.length === 0 ? "add a [sandboxes.<name>] table" : `pass one of: ${declared.join(", ")}`,
      details: { declared, file },
    },
  );
}
