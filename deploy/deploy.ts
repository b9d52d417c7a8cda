/**
 * `npm run deploy -- --network <name>`: deploys Backstop with `sdk/deploy/networks/<name>.ts` from the network's
 * first account and writes `deployments/<name>.json`. On `sepolia` the account is the config variable
 * SEPOLIA_PRIVATE_KEY (keystore or environment), the endpoint SEPOLIA_RPC_URL; add `--build-profile production`.
 */
import { artifacts, network } from "hardhat";

import { LOCAL_CHAIN_ID, deployBackstop, networkParams } from "#sdk";

/** EIP-170. The local networks allow more (hardhat.config.ts) so that the unoptimized test build deploys. */
const RUNTIME_LIMIT = 24_576;

const connection = await network.getOrCreate();
// Without --network, Hardhat runs the script on a fresh in-process chain that is gone when the script ends: a
// deployment nobody can use, and a deployments/hardhat.json pointing at nothing.
if (connection.networkName === "default") {
  console.error(
    "deploy: no --network given: this would deploy to a throw-away in-process chain. Give --network localhost " +
      "(a running `npx hardhat node`) or --network sepolia.",
  );
  process.exit(2);
}
const params = networkParams(connection.networkName);
const [deployer] = await connection.ethers.getSigners();
if (deployer === undefined) throw new Error(`network ${connection.networkName} has no account to deploy from`);
const { chainId } = await connection.ethers.provider.getNetwork();
const runtime = ((await artifacts.readArtifact("ClearingHouse")).deployedBytecode.length - 2) / 2;
if (chainId !== BigInt(LOCAL_CHAIN_ID) && runtime > RUNTIME_LIMIT) {
  throw new Error(
    `ClearingHouse is ${runtime} bytes in this build, over the ${RUNTIME_LIMIT}-byte limit of chain ${chainId}: ` +
      "deploy with --build-profile production",
  );
}
console.log(`deploying Backstop to ${connection.networkName} (${params.name}) from ${deployer.address}`);
const { path } = await deployBackstop(deployer, params, { log: (line) => console.log(`  ${line}`) });
console.log(`done: ${path}`);
