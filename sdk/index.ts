/**
 * The Backstop SDK: what more than one tool needs, imported as `#sdk` (package.json "imports"). It depends on
 * nothing but the TypeChain bindings and its npm dependencies; apps depend on it, never the other way.
 */

// Numbers shared with the contracts.
export {
  LOSS_POLICY,
  LOSS_POLICY_NAMES,
  MAX_UINT256,
  ROLES,
  SCALE,
  USD,
  WAD,
  lossPolicyName,
  sum,
  type LossPolicyName,
} from "./constants.js";
export { InputError } from "./errors.js";
export {
  REFUSED_KEY_FLAGS,
  envValue,
  flagOrEnv,
  intSetting,
  optionalIntSetting,
  parseFlags,
  parseInteger,
  setting,
  settingFlag,
  settingHelpLine,
  settingReader,
  type FlagSpec,
  type ParseFlagsOptions,
  type ParsedFlags,
  type Setting,
} from "./flags.js";

// Where a deployment lives, and its bindings.
export {
  DeploymentError,
  deploymentProblem,
  parseDeployment,
  readDeployment,
  type DeployedContracts,
  type DeployedMarket,
  type Deployment,
  type RawRpc,
} from "./deployment.js";
export { connectDeployment, type BackstopBindings } from "./contracts.js";

// Deploying: the system, each network's parameters, and the deployment file it writes.
export {
  DEPLOYMENTS_DIR,
  deployBackstop,
  writeDeployment,
  type BackstopContracts,
  type DeployBackstopOptions,
  type DeployedBackstop,
} from "./deploy/system.js";
export type {
  CollateralParams,
  FeedParams,
  FundParams,
  MarketSpec,
  NetworkParams,
  RiskParams,
  RoleHolders,
} from "./deploy/params.js";
export { networkParams } from "./deploy/networks/index.js";
export {
  LOCAL_BTC_PRICE,
  LOCAL_CHAIN_ID,
  LOCAL_ETH_PRICE,
  LOCAL_FEED_DECIMALS,
  LOCAL_RISK,
  hardhat,
  localhost,
  localhostUrl,
} from "./deploy/networks/local.js";
export { sepolia } from "./deploy/networks/sepolia.js";

// Talking to a node.
export { createProvider, observeRequests, parseRpcUrl, type ProviderOptions, type RequestHook } from "./rpc.js";
export { Secret, checkKeystore, decryptKeystore, parsePrivateKeys } from "./keys.js";
export {
  COUNTERPARTY_ERRORS,
  RACE_ERRORS,
  decodeRevert,
  describeError,
  errorCode,
  findRevertData,
  isNonceError,
  isReplacementUnderpriced,
  type DecodedRevert,
} from "./revert.js";

// Reading the chain.
export {
  Indexer,
  toHeader,
  type BlockHeader,
  type IndexerOptions,
  type IndexerProgress,
  type IndexerState,
  type SyncResult,
} from "./indexer.js";
export {
  Reader,
  isCallException,
  type AccountRow,
  type CaseRow,
  type FundRow,
  type MarketInfo,
  type RankRow,
  type ReaderOptions,
} from "./reader.js";
export {
  groupLossEvents,
  readWaterfallEvents,
  decodeLossLogs,
  type CaseOpenedEvent,
  type ChainRef,
  type LossLog,
  type DeleverageStepEvent,
  type FundDrawEvent,
  type LiquidationEvent,
  type LossEvent,
  type ReceiptEvent,
  type SocializedEvent,
  type TokenFlows,
  type WaterfallEvents,
} from "./loss-events.js";

// Signed orders.
export {
  ORDER_FILE_FORMAT,
  ORDER_FILE_VERSION,
  ORDER_TYPES,
  isSignatureHex,
  orderDomain,
  orderHash,
  orderToJson,
  parseOrderFile,
  parseOrderJson,
  readOrderFile,
  serializeOrderFile,
  type OrderFile,
  type OrderJson,
  type SignedOrderFields,
} from "./orders.js";

// The order relay's API and client.
export {
  RelayClient,
  RelayError,
  bookEntryToJson,
  parseBook,
  parseBookEntry,
  parsePostOrderBody,
  parseRelayEvent,
  postOrderBody,
  type Book,
  type BookEntry,
  type BookEntryJson,
  type BookJson,
  type ErrorReply,
  type HealthReply,
  type PostOrderBody,
  type PostOrderReply,
  type RelayClientOptions,
  type RelayEvent,
  type RelayEventJson,
  type RelaySubscription,
  type RemovalReason,
} from "./relay.js";

// Amounts typed and shown.
export {
  WAD_DECIMALS,
  formatDisplay,
  formatUnitsExact,
  formatUsd,
  formatWad,
  parseDecimal,
  parsePositive,
  parseWhole,
} from "./units.js";

// The contracts' math, mirrored to the wei.
export { abs, mulDiv, mulDivCeil, mulDivFloor, mulWad, mulWadUp } from "./math/fixed-point.js";
export { notionalAt, unrealizedPnl, type TrackedPosition } from "./math/position.js";
export { clampedRate, fundingIndexGrowth, fundingOwed, socialLossOwed } from "./math/funding.js";
export {
  accountHealth,
  isBankrupt,
  isLiquidatable,
  shortfall,
  type Health,
  type PositionInput,
} from "./math/margin.js";
export { adlScore, rankCounterparties, type AdlInputs } from "./math/adl.js";
export { liquidatableAt, liquidationPrice, type MarketPosition } from "./math/liquidation-price.js";
