import { DeploymentError, InputError } from "#sdk";

import { USAGE, parseRelayConfig } from "./config.js";
import { StartError, startRelay } from "./start.js";

/** `npm run relay`: bad flags or an unusable deployment print one line and exit 2; SIGINT/SIGTERM stop cleanly. */
async function main(): Promise<void> {
  let config;
  try {
    config = parseRelayConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`relay: ${error.message}\n(see npm run relay -- --help)\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  if (config === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let running;
  try {
    running = await startRelay(config);
  } catch (error) {
    if (error instanceof StartError || error instanceof DeploymentError) {
      process.stderr.write(`relay: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  process.stdout.write(
    `relay: listening on ${running.url} for clearing house ${running.deployment.contracts.clearingHouse}\n`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
