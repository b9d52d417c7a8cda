/**
 * `npm run app -- [--port 5173] [--node-port 8545] [--relay-port 8600] [--dir deployments]`: the web app's local stack in one
 * command — a hardhat node, the system deployed on it (deployments/localhost.json), demo accounts with collateral,
 * a staked insurance fund, the order relay, and the page on Vite's dev server. Prints the page's URL and the dev accounts' keys to import into a
 * wallet; Ctrl-C stops everything. Exit status 2 for a bad flag.
 */
import path from "node:path";

import { InputError, parseFlags, parseInteger, type FlagSpec } from "#sdk";
import { DEMO_ROLES, DEMO_STAKE, DEMO_WALLET_FUNDS, startAppStack } from "../devnet/app-stack.js";
import { DEV_KEYS, devWallet } from "../devnet/keys.js";
import { PROJECT_ROOT } from "../devnet/node.js";

const USAGE =
  "usage: npm run app -- [--port <page, default 5173>] [--node-port <JSON-RPC, default 8545>] " +
  "[--relay-port <default 8600>] [--dir <deployment file's directory, default deployments>]";

const FLAGS: FlagSpec[] = [
  { name: "--port", takesValue: true },
  { name: "--node-port", takesValue: true },
  { name: "--relay-port", takesValue: true },
  { name: "--dir", takesValue: true },
  { name: "--help", takesValue: false, short: "h" },
];

function port(values: Map<string, string[]>, name: string, fallback: number): number {
  const raw = values.get(name)?.[0];
  if (raw === undefined) return fallback;
  return parseInteger(name, raw, 1, 65_535);
}

async function main(argv: string[]): Promise<number> {
  let pagePort: number;
  let nodePort: number;
  let relayPort: number;
  let dir: string;
  try {
    const { values } = parseFlags(argv, FLAGS, { positionals: false, keyHint: "the demo accounts are printed" });
    if (values.has("--help")) {
      console.log(USAGE);
      return 0;
    }
    pagePort = port(values, "--port", 5173);
    nodePort = port(values, "--node-port", 8545);
    relayPort = port(values, "--relay-port", 8600);
    dir = path.resolve(values.get("--dir")?.[0] ?? path.join(PROJECT_ROOT, "deployments"));
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(`app: ${error.message}\n${USAGE}`);
    return 2;
  }

  console.log("starting a hardhat node, deploying, funding the demo accounts, starting the relay and the page…");
  const stack = await startAppStack({
    serve: "dev",
    nodePort,
    pagePort,
    relayPort,
    dir,
  });
  const unit = (v: bigint): string => (v / 1_000_000n).toLocaleString("en-US");
  const symbol = await stack.system.contracts.collateralToken.symbol();
  const lines = [
    "",
    `page:       ${stack.pageUrl}`,
    `JSON-RPC:   ${stack.node.url} (chain id ${stack.system.deployment.chainId})`,
    `relay:      ${stack.relayUrl} (the page reaches it as /relay)`,
    `deployment: ${stack.system.path}`,
    "",
    "dev accounts (public test keys of hardhat node: never use them on a real network)",
    ...(
      [
        ["admin (every role; moves the mock prices)", DEMO_ROLES.admin],
        [`keeper (${unit(DEMO_WALLET_FUNDS)} ${symbol} in the wallet)`, DEMO_ROLES.keeper],
        [`trader A (${unit(DEMO_WALLET_FUNDS)} ${symbol} in the wallet)`, DEMO_ROLES.traderA],
        [`trader B (${unit(DEMO_WALLET_FUNDS)} ${symbol} in the wallet)`, DEMO_ROLES.traderB],
        [`staker (${unit(DEMO_STAKE)} ${symbol} staked in the fund)`, DEMO_ROLES.staker],
      ] as const
    ).map(([role, i]) => `  #${i} ${role}\n     address ${devWallet(i).address}\n     key     ${DEV_KEYS[i]}`),
    "",
    "Ctrl-C stops the page, the relay and the node.",
  ];
  console.log(lines.join("\n"));

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log("stopping…");
  await stack.stop();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
