import { createProvider, connectDeployment, deploymentProblem, readDeployment, type Deployment } from "#sdk";
import type { JsonRpcProvider } from "ethers";

import type { RelayConfig } from "./config.js";
import { Relay } from "./relay.js";
import { buildServer } from "./server.js";
import { SqliteOrderStore } from "./sqlite-store.js";
import type { OrderStore } from "./store.js";

/** A running relay. */
export interface RunningRelay {
  /** http://host:port */
  url: string;
  relay: Relay;
  store: OrderStore;
  deployment: Deployment;
  /** Stops polling, closes the server, its sockets and the store. */
  close(): Promise<void>;
}

/** Thrown when the chain behind `--rpc` does not hold the deployment: one line, exit status 2. */
export class StartError extends Error {}

/**
 * Starts a relay: reads the deployment, checks the chain holds it, opens the store, catches up with the clearing
 * house's events, then listens and polls every `pollMs`.
 */
export async function startRelay(config: RelayConfig, store?: OrderStore): Promise<RunningRelay> {
  const deployment = readDeployment(config.deploymentPath);
  const provider: JsonRpcProvider = createProvider(config.rpcUrl, { chainId: deployment.chainId });
  const problem = await deploymentProblem(provider, deployment);
  if (problem !== undefined) {
    provider.destroy();
    throw new StartError(`${config.deploymentPath}: ${problem}`);
  }
  const contracts = connectDeployment(deployment, provider);
  const symbol = await contracts.collateralToken.symbol();
  const orders = store ?? new SqliteOrderStore(config.dbPath);
  const relay = new Relay({
    provider,
    chainId: deployment.chainId,
    clearingHouse: contracts.clearingHouse,
    clearingHouseAddress: deployment.contracts.clearingHouse,
    symbol,
    store: orders,
    logChunk: config.logChunk,
    maxOrdersPerMaker: config.maxOrdersPerMaker,
    bookDepth: config.bookDepth,
    staleAfterMs: config.staleAfterS * 1000,
  });
  const server = await buildServer({ relay, ...config });
  await relay.follower.start();

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = async () => {
    try {
      await relay.follower.poll();
    } catch (error) {
      server.log.warn({ err: error }, "following the chain failed; retrying");
    }
    if (!stopped) timer = setTimeout(() => void loop(), config.pollMs);
  };
  timer = setTimeout(() => void loop(), config.pollMs);

  const address = await server.listen({ host: config.host, port: config.port });
  return {
    url: address,
    relay,
    store: orders,
    deployment,
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      for (const client of server.websocketServer.clients) client.terminate();
      await server.close();
      await orders.close();
      provider.destroy();
    },
  };
}
