import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

// Not through #sdk: its index loads the TypeChain bindings, which the build generates from this config.
import { localhostUrl } from "./sdk/deploy/networks/local.js";

// Solidity comes from the npm package `solc` (no compiler download); its version is read from the same
// package so that the declared version and the compiler in use cannot disagree.
const require = createRequire(import.meta.url);
const solcVersion = (require("solc/package.json") as { version: string }).version;
const solcPath = require.resolve("solc/soljson.js");

// One seed for every fuzz and invariant campaign, so that a run (CI's included) is reproducible: the same code
// gives the same call sequences. It is Hardhat's own default (keccak256("built for ethereum")), written out so
// that it stays the project's choice. BACKSTOP_FUZZ_SEED explores others: a hex string, or "random" (a fresh seed,
// printed so that the run can be repeated); `npm run test:solidity:random` does the latter.
const FUZZ_SEED = "0x7727ea51af0441c20da14dcd68a15dac8c9ebd589c5be8fa8c87c1d3720450bc";

function fuzzSeed(wanted: string | undefined): string {
  if (wanted === undefined || wanted === "") return FUZZ_SEED;
  if (wanted === "random") {
    const seed = `0x${randomBytes(32).toString("hex")}`;
    console.error(`fuzz seed ${seed} (BACKSTOP_FUZZ_SEED=${seed} repeats this run)`);
    return seed;
  }
  if (!/^0x[0-9a-fA-F]{1,64}$/.test(wanted)) {
    throw new Error(`BACKSTOP_FUZZ_SEED must be "random" or a hex string of up to 64 digits (0x…), not "${wanted}"`);
  }
  return wanted;
}

// Cancun for transient-storage reentrancy locks.
const evmVersion = "cancun";

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: { version: solcVersion, path: solcPath, settings: { evmVersion } },
      production: {
        compilers: [
          { version: solcVersion, path: solcPath, settings: { evmVersion, optimizer: { enabled: true, runs: 200 } } },
        ],
        // FillLogic runs every fill and has room to spare (14,810 of 24,576 bytes here, 12,044 at runs 200): optimized
        // for gas rather than size, a fill costs 2.3-2.6k less than at runs 200, more than the library's stack and
        // ABI work adds (DESIGN-NOTES, issue 15: a fill in one library hop).
        overrides: {
          "contracts/libraries/FillLogic.sol": {
            version: solcVersion,
            path: solcPath,
            settings: { evmVersion, optimizer: { enabled: true, runs: 1_000_000 } },
          },
        },
      },
    },
  },
  networks: {
    // The unoptimized test build of ClearingHouse exceeds 24 KiB; the production build stays under it
    // (checked by scripts/check-contract-sizes.ts).
    default: { type: "edr-simulated", allowUnlimitedContractSize: true },
    // `npx hardhat node` runs this network, not `default`.
    node: { type: "edr-simulated", allowUnlimitedContractSize: true },
    // A `npx hardhat node` started separately; deploy with `npm run deploy -- --network localhost`. Its URL:
    // BACKSTOP_LOCALHOST_URL, else BACKSTOP_RPC_URL (the CLI's), else http://127.0.0.1:8545.
    localhost: { type: "http", url: localhostUrl(process.env) },
    // Secrets only through config variables: `npx hardhat keystore set SEPOLIA_RPC_URL` (or the environment).
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
  typechain: { outDir: "typechain-types" },
  test: {
    solidity: {
      fuzz: { runs: 256, seed: fuzzSeed(process.env.BACKSTOP_FUZZ_SEED) },
      invariant: { runs: 64, depth: 40 },
    },
  },
});
