import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { PROJECT_ROOT, childEnv } from "../../devnet/node.js";

/**
 * A fresh clone has no typechain-types/ until `npm run build`: the entry points must say so in one line instead of
 * Node's ERR_MODULE_NOT_FOUND. Each entry file is copied into an empty tree of the same shape (no bindings next
 * to it) and run as its npm script runs it.
 */
describe("entry points before `npm run build`", function () {
  this.timeout(60_000);

  const cases = [
    {
      entry: "cli/main.ts",
      args: ["help"],
      line: "backstop: the contract bindings are not built yet: run `npm run build` first",
    },
    {
      entry: "keeper/src/main.ts",
      args: ["--help"],
      line: "keeper: the contract bindings are not built yet: run `npm run build` first",
    },
    {
      entry: "stress/main.ts",
      args: ["--help"],
      line: "stress: the contract bindings are not built yet: run `npm run build` first",
    },
  ];

  for (const { entry, args, line } of cases) {
    it(`${entry} ${args.join(" ")} says to build first, exit 2`, function () {
      const root = mkdtempSync(path.join(tmpdir(), "backstop-fresh-"));
      mkdirSync(path.join(root, path.dirname(entry)), { recursive: true });
      copyFileSync(path.join(PROJECT_ROOT, entry), path.join(root, entry));
      writeFileSync(path.join(root, "package.json"), JSON.stringify({ type: "module" }));
      // tsx is resolved from the project; the copied entry sees no typechain-types/ next to it.
      const run = spawnSync(process.execPath, ["--import", "tsx", path.join(root, entry), ...args], {
        cwd: PROJECT_ROOT,
        env: childEnv(),
        encoding: "utf8",
      });
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.equal(`${line}\n`);
      expect(run.status).to.equal(2);
    });
  }
});
