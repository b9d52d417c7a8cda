// The gas floor of each measured operation: the storage reads and writes it cannot avoid under the current
// storage layout (contracts/interfaces/ClearingHouseTypes.sol, contracts/libraries/Ledger.sol), priced at
// EIP-2929/EIP-2200 costs, plus the transaction base and its calldata. What a figure is measured against.
//
// The rule for counting: each slot the operation must read is one cold SLOAD; each slot it must change is one
// cold SSTORE (2,100 + 20,000 from zero, 2,100 + 2,900 otherwise); each external contract it must call is one
// cold account access. A slot whose value need not change is read, not written (an SSTORE of the same value costs
// what the read does). Refunds, memory, hashing, arithmetic and events are left out: the floor is what storage
// alone costs, so the gap between a figure and its floor is what packing and fewer reads could win.
import { Interface } from "ethers";

import { OP } from "./operation-names.js";

/** EIP-2929 and EIP-2200 prices. */
export const GAS = {
  txBase: 21_000,
  coldSload: 2_100,
  warmSload: 100,
  /** SSTORE zero → non-zero on a cold slot: 20,000 + the cold access. */
  sstoreSetCold: 22_100,
  /** SSTORE non-zero → non-zero on a cold slot: 2,900 + the cold access. */
  sstoreResetCold: 5_000,
  coldAccount: 2_600,
  ecrecover: 3_000,
  /** EIP-2028: per calldata byte. */
  calldataZero: 4,
  calldataNonZero: 16,
} as const;

export interface FloorItem {
  what: string;
  count: number;
  /** Gas of one. */
  each: number;
}

export interface Floor {
  operation: string;
  items: FloorItem[];
  total: number;
}

/** EIP-2028 calldata cost of a hex string (4 gas a zero byte, 16 a non-zero one). */
export function calldataGas(hex: string): number {
  const body = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) throw new Error(`calldataGas: not hex bytes: '${hex}'`);
  let gas = 0;
  for (let i = 0; i < body.length; i += 2)
    gas += body.slice(i, i + 2) === "00" ? GAS.calldataZero : GAS.calldataNonZero;
  return gas;
}

const ABI = new Interface([
  "function fillOrder((address maker,uint256 marketId,bool isBuy,uint256 size,uint256 limitPrice,uint256 expiry," +
    "uint256 nonce,bool reduceOnly) order, bytes signature, uint256 fillSize)",
  "function liquidate(address account, uint256 marketId, uint256 size)",
  "function autoDeleverage(address account, uint256 marketId, address counterparty, uint256 size)",
  "function withdraw(uint256 amount)",
]);
const WAD = 10n ** 18n;
const MAX = 2n ** 256n - 1n;
const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/** The calldata of each call as the gas bench sends it (1 ETH at 2,000, the whole position, 100 units). */
export const CALLDATA = {
  fill: calldataGas(
    ABI.encodeFunctionData("fillOrder", [
      [OTHER, 0n, true, WAD, 2_000n * WAD, 1_900_000_000n, 1n, false],
      `0x${"ab".repeat(65)}`,
      WAD,
    ]),
  ),
  liquidate: calldataGas(ABI.encodeFunctionData("liquidate", [ACCOUNT, 0n, MAX])),
  autoDeleverage: calldataGas(ABI.encodeFunctionData("autoDeleverage", [ACCOUNT, 0n, OTHER, MAX])),
  withdraw: calldataGas(ABI.encodeFunctionData("withdraw", [100n * WAD])),
};

const item = (what: string, count: number, each: number): FloorItem => ({ what, count, each });
const tx = (calldata: number): FloorItem[] => [item("transaction base", 1, GAS.txBase), item("calldata", 1, calldata)];

/**
 * One market's reads for a margin check: MarketParams (3 slots: feed, heartbeat and policy do not fit one slot
 * with the initial margin ratio), the position's size/cost slot and its funding-index slot, the market state's
 * funding and time slots (funding owed is computed to now), and the feed's answer (the adapter takes the feed and
 * heartbeat as arguments).
 */
const marketReads = (markets: number, label = "per market"): FloorItem[] => [
  item(`market parameters, 3 slots ${label}`, 3 * markets, GAS.coldSload),
  item(`position size/cost and funding-index slots ${label}`, 2 * markets, GAS.coldSload),
  item(`market state funding and time slots ${label}`, 2 * markets, GAS.coldSload),
  item(`price feed: cold account and its answer's slot ${label}`, markets, GAS.coldAccount + GAS.coldSload),
];
const oracleAdapter = item("oracle adapter (cold account)", 1, GAS.coldAccount);

function floor(operation: string, items: FloorItem[]): Floor {
  return { operation, items, total: items.reduce((sum, i) => sum + i.count * i.each, 0) };
}

/**
 * Fill against a maker's signed order. The order's filled amount is a fresh slot (replay protection), the
 * signature one ecrecover, the maker's nonce floor and the order's cancelled flag one read each, both traders'
 * collateral pays a fee, the market's open interest changes, the fees' slot grows.
 */
function fill(operation: string, opened: number): Floor {
  const changed = 2 - opened;
  return floor(operation, [
    ...tx(CALLDATA.fill),
    item("signature (ecrecover)", 1, GAS.ecrecover),
    item("order's filled amount, zero → non-zero", 1, GAS.sstoreSetCold),
    item("maker's nonce floor and the order's cancelled flag", 2, GAS.coldSload),
    item("market parameters, 3 slots", 3, GAS.coldSload),
    item("market state funding and time slots", 2, GAS.coldSload),
    item("open interest", 1, GAS.sstoreResetCold),
    oracleAdapter,
    item("price feed: cold account and its answer's slot", 1, GAS.coldAccount + GAS.coldSload),
    ...(opened > 0
      ? [
          item("opened position: size/cost and funding-index slots, zero → non-zero", 2 * opened, GAS.sstoreSetCold),
          item("open-markets bitmap of an account without positions, zero → non-zero", opened, GAS.sstoreSetCold),
        ]
      : []),
    ...(changed > 0
      ? [
          item("changed position: size/cost slot", changed, GAS.sstoreResetCold),
          item("changed position: funding-index slot read (unchanged within a block)", changed, GAS.coldSload),
          item("open-markets bitmap read", changed, GAS.coldSload),
        ]
      : []),
    item("traders' collateral (fees)", 2, GAS.sstoreResetCold),
    item("fee pots (one slot)", 1, GAS.sstoreResetCold),
  ]);
}

/** Partial liquidation of a solvent account in one market, by a liquidator already holding that market. */
const partialLiquidation = floor(OP.partialLiquidation, [
  ...tx(CALLDATA.liquidate),
  ...marketReads(1),
  oracleAdapter,
  item("victim's and liquidator's position size/cost slot", 2, GAS.sstoreResetCold),
  item("victim's and liquidator's collateral", 2, GAS.sstoreResetCold),
  item("victim's and liquidator's open-markets bitmap", 2, GAS.coldSload),
  item("liquidator's funding-index slot", 1, GAS.coldSload),
  item("victim's deleverage case (none open)", 1, GAS.coldSload),
  item("fee pots (insurance fee)", 1, GAS.sstoreResetCold),
]);

/**
 * One ADL step that closes the case: both positions change, the case is closed, the side's entry-book bucket
 * changes, and since issue 10 step 4 the step is a loss event with the counterparty's claim record.
 */
const adlStep = floor(OP.adl, [
  ...tx(CALLDATA.autoDeleverage),
  ...marketReads(1),
  oracleAdapter,
  item("bankrupt's and counterparty's position size/cost slot", 2, GAS.sstoreResetCold),
  item("counterparty's funding-index slot", 1, GAS.coldSload),
  item("bankrupt's and counterparty's collateral", 2, GAS.sstoreResetCold),
  item("bankrupt's and counterparty's open-markets bitmap", 2, GAS.coldSload),
  item("deleverage case and the market's case counter", 2, GAS.sstoreResetCold),
  item("open interest", 1, GAS.sstoreResetCold),
  item("counterparty side's entry-book bucket", 1, GAS.sstoreResetCold),
  item("loss event and claim record, zero → non-zero", 2, GAS.sstoreSetCold),
  item("claims issued total", 1, GAS.sstoreResetCold),
]);

/** Withdrawal: the margin check reads every market held; the token moves from the clearing house. */
function withdraw(markets: number): Floor {
  return floor(markets === 1 ? OP.withdraw : `${OP.withdraw}, ${markets} markets`, [
    ...tx(CALLDATA.withdraw),
    item("collateral", 1, GAS.sstoreResetCold),
    item("open-markets bitmap", 1, GAS.coldSload),
    ...marketReads(markets),
    oracleAdapter,
    item("collateral token (cold account)", 1, GAS.coldAccount),
    item("token balances of the clearing house and the account", 2, GAS.sstoreResetCold),
  ]);
}

/**
 * A bankrupt account in `markets` markets resolved in one call, the fund covering the deficit: every position
 * moves to the liquidator, the fund pays once.
 */
function bankruptInOneCall(markets: number): Floor {
  return floor(`bankrupt account in ${markets} markets, one call`, [
    ...tx(CALLDATA.liquidate),
    ...marketReads(markets),
    oracleAdapter,
    item("victim's and liquidator's position size/cost slot per market", 2 * markets, GAS.sstoreResetCold),
    item("liquidator's funding-index slot per market", markets, GAS.coldSload),
    item("victim's and liquidator's collateral and open-markets bitmap", 4, GAS.sstoreResetCold),
    item("victim's deleverage case (none open)", 1, GAS.coldSload),
    item("insurance fund and its token (cold accounts)", 2, GAS.coldAccount),
    item("token balances of the fund and the clearing house, the fund's accounting slot", 3, GAS.sstoreResetCold),
  ]);
}

export const FLOORS = {
  fillOpenBoth: fill("fill opening both sides", 2),
  fillOpenTaker: fill(OP.fillOpen, 1),
  fillChange: fill("fill changing existing positions", 0),
  partialLiquidation,
  adlStep,
  withdraw1: withdraw(1),
  withdraw10: withdraw(10),
  bankrupt10: bankruptInOneCall(10),
} as const;

/** Partial liquidations a block of `blockGas` holds at the floor. */
export function liquidationsPerBlockAtFloor(blockGas: number): number {
  return Math.floor(blockGas / FLOORS.partialLiquidation.total);
}

/** What peers spend, with where it comes from. */
export const PEERS: readonly { peer: string; figure: string; source: string }[] = [
  {
    peer: "Synthetix v3 perps",
    figure:
      "liquidation gas is a governance-set budget (l1/l2 LiquidateGasUnits, FlagGasUnits per feed) paid to keepers; " +
      "issue 15 quotes 1.2–2.0M gas per liquidation (figure not found in the library's copy of the sources)",
    source: "SIP-356 “Transaction Costs based Rewards” (Synthetixio/SIPs, content/sips/sip-356.md)",
  },
  {
    peer: "GMX v2 (synthetics)",
    figure:
      "ADL is not a step of its own: AdlUtils.createAdlOrder stores a MarketDecrease order for the profitable " +
      "position, executed later by a keeper like any decrease order (two transactions)",
    source: "gmx-io/gmx-synthetics, contracts/adl/AdlUtils.sol",
  },
];
