import { WAD } from "../../constants.js";
import type { NetworkParams, RiskParams } from "../params.js";
import { LOCAL_RISK } from "./local.js";

/**
 * Sepolia: Chainlink's ETH/USD and BTC/USD feeds (8 decimals) and Circle's test USDC (6 decimals). The RPC URL
 * and the deployer's key are Hardhat config variables (hardhat.config.ts), never in this file.
 */

const USDC = 10n ** 6n;

/** Chainlink updates both feeds at least hourly on Sepolia; 75 minutes leaves room for a late round. */
const HEARTBEAT = 4_500n;

/** The local networks' risk parameters; only the heartbeat follows the real feeds. */
const RISK: RiskParams = { ...LOCAL_RISK, oracleHeartbeat: HEARTBEAT };

export const sepolia: NetworkParams = {
  name: "sepolia",
  collateral: { kind: "existing", address: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238" },
  markets: [
    {
      symbol: "ETH-USD",
      lossPolicy: "adl",
      feed: { kind: "existing", address: "0x694AA1769357215DE4FAC081bf1f309aDC325306" },
      risk: RISK,
    },
    {
      symbol: "BTC-USD",
      lossPolicy: "socialized",
      feed: { kind: "existing", address: "0x1b44F3514812d835EB1BDB0acB33d3fA3351Ee43" },
      risk: RISK,
    },
  ],
  insuranceFeeShare: (WAD * 3n) / 10n,
  fund: { cooldown: 86_400n, floor: 0n, drawCap: 100_000n * USDC, drawWindow: 86_400n },
  // An hour for keepers to finish an ADL before anyone may socialize the rest.
  deleverageTimeout: 3_600n,
  // The deployer keeps every role on a testnet; give addresses here to hand them over at deployment.
  roles: {},
};
