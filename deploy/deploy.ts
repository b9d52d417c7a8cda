/**
 * `npm run deploy -- --network <name>`: deploys Backstop with `deploy/networks/<name>.ts` from the network's
 * first account and writes `deployments/<name>.json`. On `sepolia` the account is the config variable
 * SEPOLIA_PRIVATE_KEY (keystore or environment), the endpoint SEPOLIA_RPC_URL.
 */
import { network } from "hardhat";

import { networkParams } from "./networks/index.js";
import { deployBackstop } from "./system.js";

const connection = await network.getOrCreate();
const params = networkParams(connection.networkName);
const [deployer] = await connection.ethers.getSigners();
if (deployer === undefined) throw new Error(`network ${connection.networkName} has no account to deploy from`);
console.log(`deploying Backstop to ${connection.networkName} (${params.name}) from ${deployer.address}`);
const { path } = await deployBackstop(deployer, params, { log: (line) => console.log(`  ${line}`) });
console.log(`done: ${path}`);
