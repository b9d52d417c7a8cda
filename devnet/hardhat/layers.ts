import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Addressable, ContractTransactionReceipt, Interface } from "ethers";

import type { DefaultLayers } from "../../typechain-types/index.js";
import { SCALE } from "./fixture.js";
import type { System } from "./fixture.js";
import type { DecodedEvent } from "./trading.js";
import { CLAIM_EVENTS } from "./waterfall.js";

/** The deployment's default-layers contract; fails when the system was deployed without one. */
export function layersOf(system: System): DefaultLayers {
  if (system.layers === undefined) throw new Error("the system was deployed without default layers");
  return system.layers;
}

/** The treasury mints itself `amount` (token units) and adds it to the first-loss capital. */
export async function fundFirstLoss(system: System, amount: bigint): Promise<void> {
  const layers = layersOf(system);
  await (await system.token.mint(system.treasury.address, amount)).wait();
  await (await system.token.connect(system.treasury).approve(await layers.getAddress(), amount)).wait();
  await (await layers.connect(system.treasury).fundFirstLoss(amount)).wait();
}

/** `member` deposits `collateral` (token units) in the clearing house and joins with `contribution`. */
export async function joinAsMember(
  system: System,
  member: HardhatEthersSigner,
  collateral: bigint,
  contribution: bigint,
): Promise<void> {
  if (collateral !== 0n) await (await system.clearingHouse.connect(member).deposit(collateral)).wait();
  await (await layersOf(system).connect(member).join(contribution)).wait();
}

/**
 * Every event of the clearing house, the stakers' fund and the layers in a transaction, in log order, decoded;
 * token transfers and the claims ledger's events (see waterfall.ts) are left out.
 */
export function layerEvents(system: System, receipt: ContractTransactionReceipt): DecodedEvent[] {
  const layers = layersOf(system);
  const byAddress = new Map<string, Interface>([
    [addressOf(system.clearingHouse.target), system.clearingHouse.interface],
    [addressOf(system.fund.target), system.fund.interface],
    [addressOf(layers.target), layers.interface],
  ]);
  const events: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    const contractInterface = byAddress.get(log.address.toLowerCase());
    if (contractInterface === undefined) continue;
    const parsed = contractInterface.parseLog(log);
    if (parsed === null) throw new Error(`unknown log of ${log.address}`);
    if (contractInterface === system.clearingHouse.interface && CLAIM_EVENTS.has(parsed.name)) continue;
    events.push({ name: parsed.name, args: parsed.args.toArray() });
  }
  return events;
}

function addressOf(target: string | Addressable): string {
  if (typeof target !== "string") throw new Error("unresolved address");
  return target.toLowerCase();
}

/** What a member holds, in token units: its tokens, its clearing-house collateral and its share of the members' fund. */
export async function memberWealth(system: System, member: HardhatEthersSigner): Promise<bigint> {
  const collateral = (await system.clearingHouse.collateralOf(member.address)) / SCALE;
  return (
    (await layersOf(system).memberValue(member.address)) + (await system.token.balanceOf(member.address)) + collateral
  );
}
