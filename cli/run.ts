/**
 * The trader and staker CLI: `npm run cli -- <command>`. Output goes to stdout (text, or JSON with `--json`);
 * any failure prints one line, `backstop: <what was wrong>`, on stderr and exits non-zero: 2 for bad input, 1
 * for a refused transaction or anything else. Started by cli/main.ts once the contract bindings exist.
 */
import { parseArgs, usage, type CommandName, type ParsedArgs } from "./args.js";
import { deposit, health, positions, withdraw } from "./commands/account.js";
import { claimsFund, claimsList, claimsRepay, claimsTotals } from "./commands/claims.js";
import { confirmUnstake, fundStatus, requestUnstake, stake, unstake } from "./commands/fund.js";
import { faucet } from "./commands/faucet.js";
import { lossEvents } from "./commands/loss-events.js";
import { marketStatus } from "./commands/market.js";
import { memberJoin, memberLeave, memberStatus } from "./commands/member.js";
import { cancelBelow, cancelOrder, fillOrder, signOrder } from "./commands/orders.js";
import { setPrice } from "./commands/set-price.js";
import type { CommandContext, CommandResult } from "./command.js";
import { connect, loadKey } from "./connection.js";
import { InputError, RevertError } from "./errors.js";
import { describeError } from "#sdk";

const EXIT_REVERT = 1;
const EXIT_INPUT = 2;

type Handler = (ctx: CommandContext) => Promise<CommandResult>;

const HANDLERS: Record<Exclude<CommandName, "help">, Handler> = {
  faucet,
  deposit,
  withdraw,
  positions,
  health,
  "order sign": signOrder,
  "order fill": fillOrder,
  "order cancel": cancelOrder,
  "order cancel-below": cancelBelow,
  "fund stake": stake,
  "fund request-unstake": requestUnstake,
  "fund confirm-unstake": confirmUnstake,
  "fund unstake": unstake,
  "fund status": fundStatus,
  "member join": memberJoin,
  "member leave": memberLeave,
  "member status": memberStatus,
  "market status": marketStatus,
  "market set-price": setPrice,
  "loss-events": lossEvents,
  "claims list": claimsList,
  "claims repay": claimsRepay,
  "claims totals": claimsTotals,
  "claims fund": claimsFund,
};

async function run(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const parsed: ParsedArgs = parseArgs(argv);
  if (parsed.command === "help" || parsed.flags.has("--help")) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const conn = await connect(parsed, env, cwd);
  try {
    const signer = await loadKey(parsed, env, conn.provider);
    const result = await HANDLERS[parsed.command]({ parsed, conn, signer, cwd });
    const output = parsed.flags.has("--json") ? JSON.stringify(result.json, null, 2) : result.text;
    process.stdout.write(`${output}\n`);
    return 0;
  } finally {
    conn.provider.destroy();
  }
}

function fail(error: unknown): number {
  const known = error instanceof InputError || error instanceof RevertError;
  const message = known ? error.message : describeError(error);
  process.stderr.write(`backstop: ${message.split("\n")[0]}\n`);
  return error instanceof InputError ? EXIT_INPUT : EXIT_REVERT;
}

run(process.argv.slice(2), process.env, process.cwd()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = fail(error);
  },
);
