import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { Linter, type ESLint } from "eslint";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// eslint.config.js is untyped JavaScript: loaded through a computed specifier so that tsc does not look for types.
const CONFIG_FILE = "../../eslint.config.js";
const { boundaries } = (await import(CONFIG_FILE)) as { boundaries: ESLint.Plugin };

/** The boundary rule's messages for `code` as if it were the file `file` (relative to the repository). */
function problems(file: string, code: string): string[] {
  const linter = new Linter({ cwd: ROOT });
  const config: Linter.Config[] = [
    { files: ["**/*.ts", "**/*.tsx"], plugins: { boundaries }, rules: { "boundaries/imports": "error" } },
  ];
  return linter.verify(code, config, { filename: path.join(ROOT, file) }).map((m) => m.message);
}

describe("import boundaries (eslint.config.js)", function () {
  it("lets apps import #sdk, devnet/, the bindings and their own files", function () {
    const code = [
      'import { WAD } from "#sdk";',
      'import { DEV_KEYS } from "../../devnet/keys.js";',
      'import { ClearingHouse__factory } from "../../typechain-types/index.js";',
      'import { transact } from "../tx.js";',
      'import { Wallet } from "ethers";',
    ].join("\n");
    expect(problems("cli/commands/x.ts", code)).to.deep.equal([]);
  });

  it("refuses an app importing another app, test/, or an SDK file past #sdk", function () {
    expect(problems("cli/x.ts", 'import { Keeper } from "../keeper/src/keeper.js";')).to.deep.equal([
      "cli/ may not import ../keeper/src/keeper.js: apps import #sdk, devnet/ and the bindings, never each other",
    ]);
    expect(problems("bench/x.ts", 'export * from "../test/cli/cli.test.js";')).to.deep.equal([
      "bench/ may not import ../test/cli/cli.test.js: only test/ imports test/",
    ]);
    expect(problems("deploy/x.ts", 'import { WAD } from "../sdk/constants.js";')).to.deep.equal([
      "deploy/ may not import ../sdk/constants.js: import the SDK through #sdk, its one entry",
    ]);
  });

  it("lets only devnet/, the demo, the keeper benchmark and the stress lab's chain runner run the keeper", function () {
    const code = 'import { Keeper } from "#keeper";';
    const refused = (from: string): string =>
      `${from}/ may not import #keeper: only devnet/, the demo, the keeper benchmark and the stress lab's chain runner run the keeper in process`;
    expect(problems("devnet/x.ts", code)).to.deep.equal([]);
    expect(problems("scripts/demo/x.ts", code)).to.deep.equal([]);
    expect(problems("bench/x.ts", code)).to.deep.equal([]);
    expect(problems("stress/lib/chain.ts", code)).to.deep.equal([]);
    expect(problems("stress/lib/lab.ts", code)).to.deep.equal([refused("stress")]);
    expect(problems("cli/x.ts", code)).to.deep.equal([refused("cli")]);
  });

  it("keeps sdk/ free of everything but itself and the bindings", function () {
    expect(problems("sdk/math/x.ts", 'import { WAD } from "../constants.js";')).to.deep.equal([]);
    expect(problems("sdk/x.ts", 'import { devWallet } from "../devnet/keys.js";')).to.deep.equal([
      "sdk/ may not import ../devnet/keys.js: sdk/ imports nothing but the bindings and its npm packages",
    ]);
    expect(problems("devnet/x.ts", 'import { usage } from "../cli/args.js";')).to.deep.equal([
      "devnet/ may not import ../cli/args.js: devnet/ imports #sdk, #keeper and the bindings, not the apps",
    ]);
  });

  it("keeps the web page (app/) to #sdk, the bindings and its own files", function () {
    const ok = [
      'import { WAD } from "#sdk";',
      'import { ClearingHouse__factory } from "../../typechain-types/index.js";',
      'import { explain } from "../format.js";',
      'import { useState } from "react";',
    ].join("\n");
    expect(problems("app/src/screens/X.tsx", ok)).to.deep.equal([]);
    expect(problems("app/src/x.ts", 'import { DEV_KEYS } from "../../devnet/keys.js";')).to.deep.equal([
      "app/ may not import ../../devnet/keys.js: the web page imports #sdk, the bindings and its own files (devnet/ only in its tests)",
    ]);
    expect(problems("app/src/x.tsx", 'import { RelayClient } from "../../relay/server.js";')).to.deep.equal([
      "app/ may not import ../../relay/server.js: the web page imports #sdk, the bindings and its own files (devnet/ only in its tests)",
    ]);
    expect(problems("test/app/x.test.ts", 'import { DEV_KEYS } from "../../devnet/keys.js";')).to.deep.equal([]);
  });

  it("leaves test/ free to import anything", function () {
    expect(problems("test/x.test.ts", 'import { Keeper } from "../keeper/src/keeper.js";')).to.deep.equal([]);
  });
});
