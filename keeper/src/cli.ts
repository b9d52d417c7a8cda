/**
 * Command-line entry point: `npm run keeper -- --rpc <url> --deployment <file>`. Configuration problems print
 * one line, `keeper: <message>`, on stderr and exit with status 2; everything else is JSON logs on stdout.
 */
import type { Server } from "node:http";

import { DeploymentError, createProvider, describeError, readDeployment, type Deployment } from "#sdk";
import { ConfigError, USAGE, parseConfig, type KeeperConfig } from "./config.js";
import { listening, startHealthServer } from "./health.js";
import { Keeper } from "./keeper.js";
import { createLogger } from "./logger.js";
import { createMetrics, rpcCounter } from "./metrics.js";
import { loadSigners } from "./signers.js";

const EXIT_CONFIG = 2;

function fail(message: string): number {
  process.stderr.write(`keeper: ${message.split("\n")[0]}\n`);
  return EXIT_CONFIG;
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: KeeperConfig;
  let deployment: Deployment;
  try {
    config = parseConfig(argv, env);
    deployment = readDeployment(config.deploymentPath);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DeploymentError) return fail(error.message);
    throw error;
  }

  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const provider = createProvider(config.rpcUrl, { chainId: deployment.chainId, onRequest: rpcCounter(metrics) });
  let signers;
  try {
    signers = await loadSigners(config, provider, deployment);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  const keeper = new Keeper({
    provider,
    signers: signers.shared,
    isolatedSigners: signers.isolated,
    deployment,
    config,
    logger,
    metrics,
  });

  let server: Server | undefined;
  if (config.metricsPort > 0) {
    try {
      server = startHealthServer(keeper, metrics, { host: config.metricsHost, port: config.metricsPort });
      await listening(server);
    } catch (error) {
      return fail(`cannot serve /health on ${config.metricsHost}:${config.metricsPort}: ${describeError(error)}`);
    }
    logger.info({ host: config.metricsHost, port: config.metricsPort }, "serving /health and /metrics");
  }

  let code = 0;
  if (config.once) {
    try {
      const report = await keeper.runOnce();
      logger.info(
        {
          block: report.block,
          accounts: report.accounts,
          liquidatable: report.liquidatable,
          actions: report.results.map((r) => ({ id: r.action.id, outcome: r.outcome, tx: r.txHash })),
        },
        "one cycle done",
      );
    } catch (error) {
      logger.error({ error: describeError(error) }, "cycle failed");
      code = 1;
    }
    await keeper.stop();
  } else {
    // Handlers stay installed after the first signal: Ctrl-C on `npm run keeper` reaches the keeper twice (from
    // the terminal, and forwarded by npm), and a second signal without a handler would kill it mid-stop.
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping");
      void keeper.stop();
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    await keeper.start();
  }
  await closeServer(server);
  provider.destroy();
  logger.flush();
  return code;
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keeper: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
