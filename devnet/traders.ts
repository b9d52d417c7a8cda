import type { Wallet } from "ethers";

import { ORDER_TYPES, USD, orderDomain, type Deployment, type SignedOrderFields } from "#sdk";
import type { DeployedSystem } from "./deploy.js";

/**
 * Mints `amount` (token units, 6 decimals) of mock collateral to `wallet` and deposits it into the clearing house,
 * `wallet` sending each transaction itself, as a trader with a wallet would.
 */
export async function fundTrader(system: DeployedSystem, wallet: Wallet, amount: bigint): Promise<void> {
  const trader = wallet.connect(system.provider);
  const { clearingHouse, collateralToken } = system.contracts;
  await (await collateralToken.connect(trader).mint(trader.address, amount)).wait();
  await (await collateralToken.connect(trader).approve(await clearingHouse.getAddress(), amount)).wait();
  await (await clearingHouse.connect(trader).deposit(amount)).wait();
}

/** Whole dollars of mock collateral in token units. */
export const dollars = (n: number): bigint => BigInt(n) * USD;

/** `wallet`'s EIP-712 signature of `order` over the deployment's domain, as a wallet's eth_signTypedData_v4 makes it. */
export function signOrderAs(wallet: Wallet, deployment: Deployment, order: SignedOrderFields): Promise<string> {
  return wallet.signTypedData(orderDomain(deployment.chainId, deployment.contracts.clearingHouse), ORDER_TYPES, order);
}
