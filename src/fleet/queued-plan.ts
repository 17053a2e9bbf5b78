/** What a queued batch stores of its plan (verifications.plan): enough to finalize it anywhere. */
import { z } from "zod";

export const queuedPlanSchema = z.object({
  targets: z.array(z.string()),
  left_out: z.array(z.object({ artifact_id: z.string(), steps: z.number() })),
  unreplayable: z.array(z.object({ artifact_id: z.string(), reason: z.string() })),
  options: z.object({ strict: z.boolean(), diff: z.boolean(), max_steps: z.number().nullable() }),
});

export type QueuedBatchPlan = z.infer<typeof queuedPlanSchema>;
