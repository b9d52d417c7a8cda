/** Moved to scripts/demo/batch.ts, where the demo uses it too. */
export * from "../../../scripts/demo/batch.js";
