/**
 * Entry point of `npm run cli`. Everything else (through #sdk) loads the TypeChain bindings that `npm run build`
 * generates and git does not hold: on a fresh clone, importing them fails with Node's twenty-line
 * ERR_MODULE_NOT_FOUND. So this file imports nothing else statically, says what to run when they are missing,
 * and only then loads the CLI.
 */
import { existsSync } from "node:fs";

const BINDINGS = new URL("../typechain-types/index.ts", import.meta.url);

if (existsSync(BINDINGS)) {
  await import("./run.js");
} else {
  process.stderr.write("backstop: the contract bindings are not built yet: run `npm run build` first\n");
  process.exitCode = 2;
}
