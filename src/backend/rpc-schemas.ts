import { z } from "zod";

// Response shapes of the legacy server (docs/protocol.md#errors and the method sections). Unknown members are allowed (servers add
// fields over time); the members we read must have the documented types.

export const envelopeSchema = z.object({
  result: z.unknown().optional(),
  error: z.object({ code: z.number().optional(), message: z.string().optional() }).optional(),
});

const outputLine = z.object({ stream: z.enum(["stdout", "stderr"]), text: z.string() });

export const messageResultSchema = z.string();

export const replResultSchema = z.object({
  language: z.string(),
  output: z.array(outputLine),
  status: z.string(),
});

export const commandResultSchema = z.object({
  command: z.string(),
  args: z.array(z.string()),
  exit_code: z.number().int(),
  output: z.array(outputLine),
  success: z.boolean(),
});

export const metricsResultSchema = z.object({
  sandboxes: z.array(
    z.object({
      name: z.string(),
      running: z.boolean(),
      cpu_usage: z.number().nullable(),
      memory_usage: z.number().nullable(),
      disk_usage: z.number().nullable(),
      namespace: z.string().optional(),
    }),
  ),
});

/** `syncChannel` of `msbv.capabilities` (dev-server extra, docs/protocol.md#dev-sync-channel). */
export const syncChannelSchema = z.looseObject({
  version: z.number(),
  route: z.string(),
  maxBytes: z.number().int().nonnegative(),
});

/**
 * `msbv.capabilities` (our dev server's extra method); unknown fields are future capabilities. A
 * `syncChannel` of another shape is read as "no channel" rather than failing the whole probe.
 */
export const capabilitiesSchema = z.looseObject({
  readonlyVolumes: z.boolean().optional(),
  syncChannel: syncChannelSchema.optional().catch(undefined),
});
