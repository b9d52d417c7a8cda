/** Moved to scripts/demo/plan.ts, where the demo uses it too. */
export * from "../../../scripts/demo/plan.js";
