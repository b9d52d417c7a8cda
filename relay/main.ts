/**
 * Entry point of `npm run relay`. The relay (through #sdk) loads the TypeChain bindings that `npm run build`
 * generates and git does not hold; this file imports nothing else statically, says what to run when they are
 * missing, and only then loads the relay.
 */
import { existsSync } from "node:fs";

const BINDINGS = new URL("../typechain-types/index.ts", import.meta.url);

if (existsSync(BINDINGS)) {
  await import("./cli.js");
} else {
  process.stderr.write("relay: the contract bindings are not built yet: run `npm run build` first\n");
  process.exitCode = 2;
}
