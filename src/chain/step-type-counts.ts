/** How many steps of each step_type the registry holds (the contract's own survey query). */
import type { SqlQueryable } from "../db/index.js";
import { parseRowOrThrow, stepTypeCountRowSchema } from "./row-schemas.js";

export interface StepTypeCount {
  stepType: string;
  count: number;
}

export async function stepTypeCounts(db: SqlQueryable): Promise<StepTypeCount[]> {
  const rows = await db.query(
    `SELECT step_type, COUNT(*) AS count FROM processing_steps GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((row, i) =>
    parseRowOrThrow(stepTypeCountRowSchema, "processing_steps", `step_type group ${i}`, row),
  );
}
