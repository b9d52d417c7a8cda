import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { build, createServer, preview, type PreviewServer, type ViteDevServer } from "vite";

import { USD } from "#sdk";
import { deploySystemOverRpc, type DeployedSystem } from "./deploy.js";
import { devWallet } from "./keys.js";
import { PROJECT_ROOT, freePort, startHardhatNode, type HardhatNode } from "./node.js";
import { startRelay, type RelayProcess } from "./relay.js";

/**
 * The web app's local stack: a `hardhat node`, the system deployed on it, demo accounts with collateral in their
 * wallets and a staked fund, the order relay (`npm run relay`, a child process with an in-memory book), and the
 * page (app/) served by Vite — the dev server for `npm run app`, the built bundle behind Vite's preview server for
 * the browser tests.
 */

/** The page's Vite config; read by path, so devnet imports nothing from app/. */
export const APP_VITE_CONFIG = path.join(PROJECT_ROOT, "app", "vite.config.ts");
/** The variable app/vite.config.ts reads the launch config's path from. */
export const APP_CONFIG_ENV = "BACKSTOP_APP_CONFIG";

/** Dev accounts of the stack (devnet/keys.ts): who is who. */
export const DEMO_ROLES = { admin: 0, keeper: 1, traderA: 2, traderB: 3, staker: 4 } as const;
/** Collateral minted into each demo account's wallet, token units. */
export const DEMO_WALLET_FUNDS = 100_000n * USD;
/** What the staker puts in the insurance fund, token units. */
export const DEMO_STAKE = 5_000n * USD;

export interface AppStackOptions {
  /** "dev": Vite's dev server (hot reload); "preview": `vite build`, then the bundle behind Vite's preview server. */
  serve: "dev" | "preview";
  /** Fixed ports for a person's wallet settings; free ports by default. */
  nodePort?: number;
  pagePort?: number;
  /** Where the deployment file and the page's launch config go. */
  dir: string;
  /** A fixed port for the relay; a free one by default. */
  relayPort?: number;
}

export interface AppStack {
  node: HardhatNode;
  system: DeployedSystem;
  /** The page, e.g. http://127.0.0.1:5173/ */
  pageUrl: string;
  /** The relay's own URL (the page reaches it through its server under /relay). */
  relayUrl: string;
  /** The launch config the page reads as /config.json. */
  configPath: string;
  /** Stops the page and the node. Safe to call twice. */
  stop(): Promise<void>;
}

/** Gives each account `amount` of collateral in its wallet (the mock token mints to anyone). */
export async function fundWallets(system: DeployedSystem, accounts: readonly number[], amount: bigint): Promise<void> {
  for (const index of accounts) {
    const wallet = devWallet(index, system.provider);
    await (await system.contracts.collateralToken.connect(wallet).mint(wallet.address, amount)).wait();
  }
}

/** Stakes `amount` from dev account `index` into the insurance fund. */
export async function stake(system: DeployedSystem, index: number, amount: bigint): Promise<void> {
  const wallet = devWallet(index, system.provider);
  const fund = system.contracts.insuranceFund;
  await (await system.contracts.collateralToken.connect(wallet).approve(await fund.getAddress(), amount)).wait();
  await (await fund.connect(wallet).deposit(amount, wallet.address)).wait();
}

/** Writes the page's launch config: the node's URL, the relay, and the deployment. */
export async function writeLaunchConfig(
  file: string,
  system: DeployedSystem,
  relayUrl: string | undefined,
): Promise<void> {
  await writeFile(
    file,
    `${JSON.stringify({ rpcUrl: system.url, relayUrl: relayUrl ?? null, deployment: system.deployment }, null, 2)}\n`,
  );
}

/** Serves the page with the launch config in `configPath`; its URL and how to stop it. */
export async function servePage(
  serve: AppStackOptions["serve"],
  configPath: string,
  port: number | undefined,
): Promise<{ url: string; close(): Promise<void> }> {
  // app/vite.config.ts reads it when Vite loads the config, for /config.json and the /relay proxy.
  process.env[APP_CONFIG_ENV] = configPath;
  let server: ViteDevServer | PreviewServer;
  if (serve === "dev") {
    const dev = await createServer({ configFile: APP_VITE_CONFIG, server: { port, host: "127.0.0.1" } });
    server = await dev.listen();
  } else {
    await build({ configFile: APP_VITE_CONFIG });
    server = await preview({ configFile: APP_VITE_CONFIG, preview: { port, host: "127.0.0.1" } });
  }
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) throw new Error("vite: the page's server has no local URL");
  return {
    url,
    close: async () => {
      if ("ws" in server) await server.close();
      else await server.close();
    },
  };
}

/** Node, deployment, demo accounts, relay and the page. */
export async function startAppStack(options: AppStackOptions): Promise<AppStack> {
  const node = await startHardhatNode({ port: options.nodePort });
  let relay: RelayProcess | undefined;
  try {
    await mkdir(options.dir, { recursive: true });
    const system = await deploySystemOverRpc(node.url, devWallet(DEMO_ROLES.admin), { dir: options.dir });
    const { traderA, traderB, staker, keeper } = DEMO_ROLES;
    await fundWallets(system, [traderA, traderB, staker, keeper], DEMO_WALLET_FUNDS);
    await stake(system, staker, DEMO_STAKE);
    relay = await startRelay(node.url, system.path, options.relayPort ?? (await freePort()));
    const configPath = path.join(options.dir, "app-config.json");
    await writeLaunchConfig(configPath, system, relay.url);
    const page = await servePage(options.serve, configPath, options.pagePort);
    let stopped: Promise<void> | undefined;
    const running = relay;
    return {
      node,
      system,
      pageUrl: page.url,
      relayUrl: running.url,
      configPath,
      stop: () =>
        (stopped ??= (async () => {
          await page.close();
          await running.stop();
          system.provider.destroy();
          await node.stop();
        })()),
    };
  } catch (error) {
    await relay?.stop();
    await node.stop();
    throw error;
  }
}
