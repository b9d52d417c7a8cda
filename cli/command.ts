import type { Wallet } from "ethers";

import type { ParsedArgs } from "./args.js";
import type { Connection } from "./connection.js";
import { InputError } from "./errors.js";

/** What a command runs with. */
export interface CommandContext {
  parsed: ParsedArgs;
  conn: Connection;
  /** The key, when one was given; commands that sign get one for sure through {@link requireSigner}. */
  signer: Wallet | undefined;
  cwd: string;
}

/** What a command prints: `text` by default, `json` with `--json`. */
export interface CommandResult {
  text: string;
  json: unknown;
}

export function requireSigner(ctx: CommandContext, whose?: string): Wallet {
  if (ctx.signer === undefined) {
    const hint = whose === undefined ? "" : ` (${whose})`;
    throw new InputError(
      `'${ctx.parsed.command}' needs a key: set BACKSTOP_PRIVATE_KEY or give --keystore <file>${hint}`,
    );
  }
  return ctx.signer;
}
