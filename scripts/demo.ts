/**
 * `npm run demo -- [--seed s] [--accounts n] [--crash pct]`: the whole loss waterfall on the in-process network.
 * Run with tsx (not `hardhat run`, which passes no arguments to scripts); Hardhat is used as a library.
 * Exit status: 0 when the solvency check passed, 1 when it failed, 2 for bad flags.
 */
import { network } from "hardhat";

import { DEMO_USAGE, DemoFlagError, parseDemoFlags } from "./demo/flags.js";
import { renderMarkdown } from "./demo/report.js";
import { runDemo } from "./demo/run.js";

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseDemoFlags(argv);
  } catch (error) {
    if (!(error instanceof DemoFlagError)) throw error;
    process.stderr.write(`demo: ${error.message}\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const { options } = parsed;
  const connection = await network.create();
  try {
    const print = options.quiet ? undefined : (line: string): void => console.log(line);
    const result = await runDemo(options, { ethereum: connection.provider, print });
    console.log(`\n${renderMarkdown(result.report)}`);
    console.log(`report: ${result.files.markdown} and ${result.files.json}`);
    return result.ok ? 0 : 1;
  } finally {
    await connection.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
