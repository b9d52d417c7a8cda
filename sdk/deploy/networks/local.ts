import { USD, WAD } from "../../constants.js";
import type { LayerParams, MarketSpec, NetworkParams, RiskParams } from "../params.js";

/**
 * The in-process network and a local `hardhat node`: a mock 6-decimal USD token, mock 8-decimal feeds that a
 * script can move, every role with the deployer. Parameters chosen for demos and tests: a one-day heartbeat so
 * that feeds stay fresh while a test moves time by minutes, the contract's shortest deleverage timeout, and a
 * fund draw cap that never binds.
 */

/** Whole dollars; the mock feeds start here. */
export const LOCAL_ETH_PRICE = 2000n;
export const LOCAL_BTC_PRICE = 60000n;
export const LOCAL_FEED_DECIMALS = 8;
/**
 * The URL of hardhat.config.ts's `localhost` network: BACKSTOP_LOCALHOST_URL when set (a node on another port or
 * host), else BACKSTOP_RPC_URL (the CLI's endpoint: one export points deploy and CLI at the same node), else
 * `hardhat node`'s default. Checked here, so that a typo fails before anything connects.
 */
export function localhostUrl(env: NodeJS.ProcessEnv): string {
  const name = env.BACKSTOP_LOCALHOST_URL ? "BACKSTOP_LOCALHOST_URL" : "BACKSTOP_RPC_URL";
  const raw = env[name];
  if (raw === undefined || raw === "") return "http://127.0.0.1:8545";
  const url = URL.parse(raw);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new Error(`${name} must be an http(s) URL, got '${raw}'`);
  }
  return raw;
}

/** The chain id of the in-process network and of `hardhat node`. */
export const LOCAL_CHAIN_ID = 31337;

/**
 * 10x initial, 20x maintenance leverage, 1% discount and fee, 2/5 bp maker/taker fees, 5% band, 1%/day funding, and
 * no liquidation buffer: a partial liquidation restores exactly maintenance, the figures the demo, README samples
 * and their tests show (the stress lab deploys its own buffer; docs/DESIGN-NOTES.md, "Liquidation buffer").
 */
export const LOCAL_RISK: RiskParams = {
  oracleHeartbeat: 86_400n,
  initialMarginRatio: WAD / 10n,
  maintenanceMarginRatio: WAD / 20n,
  liquidationDiscount: WAD / 100n,
  liquidationFeeRatio: WAD / 100n,
  makerFeeRatio: WAD / 5000n,
  takerFeeRatio: WAD / 2000n,
  priceBand: WAD / 20n,
  maxFundingRate: WAD / 100n,
  maxOpenInterest: 1_000_000n * WAD,
  liquidationBuffer: 0n,
};

/**
 * The default layers of the local networks (`hardhat`, `localhost`; issue 11), declared here once: the demo, the
 * deploy script, the `hardhat node` walkthrough and the tests against a node all deploy with them. Assessments
 * ≤ 2× contribution per 28 days (Eurex: 2× per 20 business days); a contribution of 10% of initial margin and at
 * least 50 USD; swept fees: 50% refill the first loss up to 100,000 USD, 20% to the members. The drawdown
 * trigger is off here (fraction 100%): the trigger caps what the layers pay in a window at a share of the funded
 * layers, so with it a crash could never use up the members' fund and reach the assessments, which is what the
 * demo shows. A real network's parameters set {@link DRAWDOWN_TRIGGER} (OKX, Bybit: 30% within 8 hours), as the
 * layer tests do. See docs/DESIGN-NOTES.md, issue 11.
 */
export const LOCAL_LAYERS: LayerParams = {
  firstLossTarget: 100_000n * USD,
  refillShare: WAD / 2n,
  memberFeeShare: WAD / 5n,
  minContribution: 50n * USD,
  contributionRatio: WAD / 10n,
  assessmentMultiple: 2n * WAD,
  coolingOffPeriod: 28n * 86_400n,
  drawdownFraction: WAD,
  drawdownWindow: 8n * 3_600n,
};

/** The drawdown trigger recommended for a real network: 30% of the funded layers within 8 hours (OKX, Bybit). */
export const DRAWDOWN_TRIGGER = { drawdownFraction: (WAD * 3n) / 10n, drawdownWindow: 8n * 3_600n } as const;

function localParams(name: string): NetworkParams {
  return {
    name,
    collateral: { kind: "mock", name: "Mock USD", symbol: "mUSD", decimals: 6 },
    markets: [
      {
        symbol: "ETH-USD",
        lossPolicy: "adl",
        feed: { kind: "mock", description: "ETH / USD", decimals: LOCAL_FEED_DECIMALS, price: LOCAL_ETH_PRICE },
        risk: LOCAL_RISK,
      },
      {
        symbol: "BTC-USD",
        lossPolicy: "socialized",
        feed: { kind: "mock", description: "BTC / USD", decimals: LOCAL_FEED_DECIMALS, price: LOCAL_BTC_PRICE },
        risk: LOCAL_RISK,
      },
    ],
    insuranceFeeShare: (WAD * 3n) / 10n,
    fund: { cooldown: 86_400n, floor: 0n, drawCap: 10n ** 12n * USD, drawWindow: 86_400n },
    layers: LOCAL_LAYERS,
    deleverageTimeout: 60n,
    roles: {},
  };
}

/** `npx hardhat run` without --network, the demo and the in-process tests. */
export const hardhat = localParams("hardhat");
/** `npx hardhat node` at http://127.0.0.1:8545. */
export const localhost = localParams("localhost");

/**
 * An example of isolated markets (issue 11), not deployed by default: the local parameters of `name` plus SOL-USD
 * (100 USD) isolated with a vault of its own (the shared fund's limits), and AVAX-USD (20 USD) isolated with
 * default layers of its own: the local layers with the drawdown trigger a real network would set (30% in 8 h) and a
 * stakers' vault. Each market's losses reach only its own fund; see docs/DESIGN-NOTES.md, "Isolated markets".
 */
export function withIsolatedExample(base: NetworkParams): NetworkParams {
  const isolated = (symbol: string, price: bigint, fund: string): MarketSpec => ({
    symbol,
    lossPolicy: "socialized",
    feed: { kind: "mock", description: symbol.replace("-", " / "), decimals: LOCAL_FEED_DECIMALS, price },
    risk: LOCAL_RISK,
    isolatedFund: fund,
  });
  return {
    ...base,
    markets: [...base.markets, isolated("SOL-USD", 100n, "sol-vault"), isolated("AVAX-USD", 20n, "avax-layers")],
    isolatedFunds: {
      "sol-vault": { kind: "vault", fund: base.fund },
      "avax-layers": { kind: "layers", layers: { ...LOCAL_LAYERS, ...DRAWDOWN_TRIGGER }, stakers: base.fund },
    },
  };
}
