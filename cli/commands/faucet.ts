import { parsePositive } from "#sdk";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { requireLocalChain } from "../local-chain.js";
import { transact } from "../tx.js";
import { formatToken, tokenInfo } from "./token.js";

/**
 * `faucet <amount>`: mints mock collateral tokens to the signer's wallet, on a local network only. The chain id
 * is the deployment's, which `connect` has checked the node runs; the check comes before anything is read or sent.
 */
export async function faucet(ctx: CommandContext): Promise<CommandResult> {
  const { deployment, contracts, decoding } = ctx.conn;
  requireLocalChain(ctx.parsed.command, deployment.chainId, deployment.network);
  const signer = requireSigner(ctx);
  const { token } = contracts;
  const info = await tokenInfo(token);
  const amount = parsePositive(ctx.parsed.args.amount ?? "", info.decimals, "amount");
  const receipt = await transact("mint", decoding, token.connect(signer).mint, signer.address, amount);
  const balance = await token.balanceOf(signer.address);
  return {
    text: `minted ${formatToken(amount, info)}; wallet balance now ${formatToken(balance, info)} (tx ${receipt.hash})`,
    json: {
      action: "faucet",
      account: signer.address,
      amount: formatToken(amount, info, true),
      balance: formatToken(balance, info, true),
      txs: [receipt.hash],
    },
  };
}
