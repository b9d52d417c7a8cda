// @ts-check
import path from "node:path";

import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

// Dependencies point one way (docs/DESIGN-NOTES.md, "One library under every tool"):
//   sdk/  <-  devnet/  <-  apps (keeper/, cli/, deploy/, scripts/, bench/, app/, relay/, stress/)  <-  test/
// sdk/ imports nothing but the bindings and npm packages; apps import #sdk, devnet/ and the bindings, never each
// other; nobody outside test/ imports test/. The web page (app/) runs in a browser: it imports #sdk (its browser
// entry), the bindings and its own files, not devnet/, which starts processes (its browser tests under test/app/
// use devnet/). The keeper's one public entry, #keeper, is open to what runs a keeper in process: devnet's test
// keeper, the demo (scripts/), the keeper benchmark (bench/) and the stress lab's contract-backed paths
// (stress/lib/chain.ts, that one file).
const APPS = ["keeper", "cli", "deploy", "scripts", "bench", "app", "relay", "stress"];
const BINDINGS = "typechain-types";

/** Files outside devnet/, scripts/ and bench/ that run the keeper in process (paths from the repository root). */
const KEEPER_RUNNERS = ["stress/lib/chain.ts"];

/** What a file under each top-level folder may import, by the imported file's top-level folder. */
function allowed(from, file) {
  if (from === "sdk") return ["sdk", BINDINGS];
  if (from === "devnet") return ["#sdk", "devnet", "#keeper", BINDINGS];
  if (from === "app") return ["#sdk", BINDINGS, "app"];
  if (APPS.includes(from)) {
    const keeper = from === "scripts" || from === "bench" || KEEPER_RUNNERS.includes(file);
    return ["#sdk", "devnet", BINDINGS, from, ...(keeper ? ["#keeper"] : [])];
  }
  return undefined; // test/ and the root files: anything
}

/** Resolves an import specifier to the top-level folder it lands in; undefined for an npm package. */
function targetOf(spec, filename) {
  if (spec === "#sdk" || spec === "#keeper") return spec;
  if (!spec.startsWith(".")) return undefined;
  const target = path.relative(import.meta.dirname, path.resolve(path.dirname(filename), spec));
  return target.split(path.sep)[0];
}

/** Reports imports that break the direction above. */
export const boundaries = {
  rules: {
    imports: {
      meta: { type: "problem", schema: [], messages: { wrong: "{{from}}/ may not import {{spec}}: {{why}}" } },
      create(context) {
        const file = path
          .relative(import.meta.dirname, context.filename)
          .split(path.sep)
          .join("/");
        const from = file.split("/")[0];
        const ok = allowed(from, file);
        if (ok === undefined) return {};
        const check = (node) => {
          const spec = node.source?.value;
          if (typeof spec !== "string") return;
          const target = targetOf(spec, context.filename);
          if (target === undefined || ok.includes(target)) return;
          const why =
            target === "test"
              ? "only test/ imports test/"
              : target === "sdk"
                ? "import the SDK through #sdk, its one entry"
                : target === "#keeper"
                  ? "only devnet/, the demo, the keeper benchmark and the stress lab's chain runner run the keeper in process"
                  : from === "sdk"
                    ? "sdk/ imports nothing but the bindings and its npm packages"
                    : from === "devnet"
                      ? "devnet/ imports #sdk, #keeper and the bindings, not the apps"
                      : from === "app"
                        ? "the web page imports #sdk, the bindings and its own files (devnet/ only in its tests)"
                        : "apps import #sdk, devnet/ and the bindings, never each other";
          context.report({ node, messageId: "wrong", data: { from, spec, why } });
        };
        return {
          ImportDeclaration: check,
          ExportNamedDeclaration: check,
          ExportAllDeclaration: check,
          ImportExpression: check,
        };
      },
    },
  },
};

export default defineConfig(
  globalIgnores([
    "node_modules/",
    "artifacts/",
    "cache/",
    "typechain-types/",
    "types/",
    "coverage/",
    "results/",
    "ignition/deployments/",
  ]),
  {
    files: [
      "*.ts",
      "sdk/**/*.ts",
      "devnet/**/*.ts",
      "scripts/**/*.ts",
      "test/**/*.ts",
      "deploy/**/*.ts",
      "keeper/**/*.ts",
      "cli/**/*.ts",
      "bench/**/*.ts",
      "stress/**/*.ts",
      "app/**/*.ts",
      "app/**/*.tsx",
      "relay/**/*.ts",
    ],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // The page runs in a browser; its Vite config in Node.
    files: ["app/src/**/*.ts", "app/src/**/*.tsx"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["**/*.ts", "**/*.tsx"],
    plugins: { boundaries },
    rules: { "boundaries/imports": "error" },
  },
  {
    // chai assertions such as `expect(x).to.be.true` are property accesses.
    files: ["test/**/*.ts"],
    languageOptions: { globals: globals.mocha },
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
);
