// @ts-check
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

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
    // chai assertions such as `expect(x).to.be.true` are property accesses.
    files: ["test/**/*.ts"],
    languageOptions: { globals: globals.mocha },
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
);
