/** Moved to scripts/demo/crash.ts, where the demo uses it too; a DeployedSystem is a CrashSystem. */
export * from "../../../scripts/demo/crash.js";
