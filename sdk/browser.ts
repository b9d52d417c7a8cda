/**
 * The part of the Backstop SDK that runs in a browser as well as in Node: everything but the flags, the keys,
 * deploying and file reads, which need Node's own modules. The web app (app/) gets it through the "browser"
 * condition of `#sdk` in package.json; sdk/index.ts, the Node entry, re-exports all of it.
 */

// Numbers shared with the contracts.
export {
  LOSS_POLICY,
  LOSS_POLICY_NAMES,
  MAX_UINT256,
  ROLES,
  SCALE,
  SHARED_CLAIMS_POOL,
  USD,
  WAD,
  claimsPoolOf,
  lossPolicyName,
  sum,
  type LossPolicyName,
} from "./constants.js";
export { InputError } from "./errors.js";

// Where a deployment lives, and its bindings.
export {
  DeploymentError,
  deploymentProblem,
  parseDeployment,
  type DeployedContracts,
  type DeployedMarket,
  type Deployment,
  type RawRpc,
} from "./deployment.js";
export { connectDeployment, type BackstopBindings } from "./contracts.js";

// Each network's deployment parameters (deployBackstop itself is in the Node entry).
export type {
  CollateralParams,
  FeedParams,
  FundParams,
  IsolatedFundParams,
  LayerParams,
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
  LOCAL_LAYERS,
  DRAWDOWN_TRIGGER,
  LOCAL_RISK,
  hardhat,
  localhost,
  localhostUrl,
  withIsolatedExample,
} from "./deploy/networks/local.js";
export { sepolia } from "./deploy/networks/sepolia.js";

// Talking to a node.
export { createProvider, observeRequests, parseRpcUrl, type ProviderOptions, type RequestHook } from "./rpc.js";
export {
  COUNTERPARTY_ERRORS,
  RACE_ERRORS,
  decodeRevert,
  describeError,
  errorCode,
  findRevertData,
  isNonceAhead,
  isNonceError,
  isReplacementUnderpriced,
  type DecodedRevert,
} from "./revert.js";

// Reading the chain.
export {
  Indexer,
  bloomMayContain,
  isLogRangeError,
  latestHeader,
  toHeader,
  type BlockHeader,
  type IndexerOptions,
  type IndexerProgress,
  type IndexerState,
  type SyncResult,
} from "./indexer.js";
export { adlPlace, type AdlPlace } from "./adl-queue.js";
export {
  noticeState,
  readIsolatedFunds,
  readLayers,
  readMember,
  type DrawdownState,
  type IsolatedFundRow,
  type LayerRow,
  type LayersState,
  type LeaveBlock,
  type MemberState,
  type NoticeInputs,
  type NoticeState,
} from "./layers.js";
export {
  Reader,
  isCallException,
  accountRow,
  type AccountRow,
  type CaseRow,
  type FundRow,
  type MarketInfo,
  type RankRow,
  type ReaderOptions,
} from "./reader.js";
export {
  DEFAULT_MAX_BLOCK_RANGE,
  blockSpans,
  querySpans,
  groupLossEvents,
  readWaterfallEvents,
  decodeLossLogs,
  decodeLayerLogs,
  LAYER_NAMES,
  layerName,
  layerTotals,
  overshoot,
  takenFromTraders,
  type AssessmentEvent,
  type DrawdownEvent,
  type LayerDrawEvent,
  type LayerName,
  type ReadRange,
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
  type TraderParts,
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
export { entryBucket, priceBucket } from "./math/entry-bucket.js";
export { liquidatableAt, liquidationPrice, type MarketPosition } from "./math/liquidation-price.js";
export {
  applyFill,
  entryPrice,
  fillEffect,
  type FillEffect,
  type FillInput,
  type FillMarket,
  type FilledPosition,
} from "./math/fill.js";
