/**
 * Entry point of `npm run stress`. The lab (through #sdk and its contract-backed paths) loads the TypeChain
 * bindings that `npm run build` generates and git does not hold: on a fresh clone, importing them fails with Node's
 * twenty-line ERR_MODULE_NOT_FOUND, even for `--help`. So this file imports nothing else statically, says what to
 * run when they are missing, and only then loads the stages (`stages.ts`), as cli/main.ts and keeper/src/main.ts do.
 */
import { existsSync } from "node:fs";

const BINDINGS = new URL("../typechain-types/index.ts", import.meta.url);

if (existsSync(BINDINGS)) {
  await import("./stages.js");
} else {
  process.stderr.write("stress: the contract bindings are not built yet: run `npm run build` first\n");
  process.exitCode = 2;
}
