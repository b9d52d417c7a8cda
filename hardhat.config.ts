import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

const require = createRequire(import.meta.url);
const solcVersion: string = (require("solc/package.json") as { version: string }).version;
const solcPath = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: { version: solcVersion, path: solcPath },
      production: {
        version: solcVersion,
        path: solcPath,
        settings: { optimizer: { enabled: true, runs: 200 } },
      },
    },
  },
});
