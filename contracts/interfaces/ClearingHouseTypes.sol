// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./external/AggregatorV3Interface.sol";

// Types shared by the clearing house, its libraries, the lens and the tests. Split from {IClearingHouse} as
// Uniswap v4 splits IPoolManager; IClearingHouse.sol re-exports every name, so importing them from there still works.

/// @notice What happens to bad debt the insurance fund cannot pay, chosen when a market is listed.
enum LossPolicy {
    AutoDeleverage,
    Socialized,
    /// Taken from the other side's profit pro rata to profit, positions staying open; the rest socialized.
    Haircut
}

/// @notice Risk parameters of one market. Ratios are 18-decimal fractions (1e18 = 100%).
/// @dev Packed into four storage slots (`liquidationBuffer` shares the last with `maxOpenInterest`); every field is
/// kept inside the hard bounds of {MarketParamsLib}.
struct MarketParams {
    /// Chainlink-compatible price feed of the market's base asset in the collateral's unit.
    AggregatorV3Interface oracleFeed;
    /// Longest accepted age of an oracle answer, in seconds.
    uint32 oracleHeartbeat;
    /// Bad-debt policy once the insurance fund is exhausted; fixed at listing.
    LossPolicy lossPolicy;
    /// Initial margin as a fraction of position notional: required after a risk-increasing fill or a withdrawal.
    uint64 initialMarginRatio;
    /// Maintenance margin as a fraction of notional: below it the account is liquidatable.
    uint64 maintenanceMarginRatio;
    /// Price concession to the liquidator, as a fraction of the oracle price.
    uint64 liquidationDiscount;
    /// Fee paid to the insurance fund on liquidated notional.
    uint64 liquidationFeeRatio;
    /// Fee charged to the maker of a fill, on its notional.
    uint64 makerFeeRatio;
    /// Fee charged to the taker of a fill, on its notional.
    uint64 takerFeeRatio;
    /// Largest relative distance between a fill price and the oracle price.
    uint64 priceBand;
    /// Clamp on the funding rate, per day.
    uint64 maxFundingRate;
    /// Cap on the open interest of each side, in base units with 18 decimals.
    uint128 maxOpenInterest;
    /// Margin a partial liquidation restores above maintenance, as a fraction of it: the smallest size that brings
    /// equity to maintenance × (1 + buffer) is closed (0: exactly maintenance). See LiquidationMath.
    uint64 liquidationBuffer;
}

/// @notice An isolated market's own default resources (issue 11): its fund and the fees set aside for it.
struct IsolatedPool {
    /// The market's own insurance fund (an InsuranceFund vault or a DefaultLayers instance); never another market's.
    address fund;
    /// The market's share of trading and liquidation fees set aside for its fund (18 decimals).
    uint128 fees;
}

/// @notice Mutable state of one market.
struct MarketState {
    /// Cumulative funding paid per unit of long size since listing (18 decimals, collateral units).
    int128 fundingIndex;
    /// Average of held fill premiums over the oracle when last set, an 18-decimal fraction within ±maxFundingRate;
    /// it falls toward zero from `lastPremiumTime` on and drives the funding rate (see FundingMath).
    int128 premiumEma;
    /// Sum of all long sizes.
    uint128 longOpenInterest;
    /// Sum of the absolute values of all short sizes.
    uint128 shortOpenInterest;
    /// Last time `fundingIndex` was brought up to date.
    uint64 lastFundingTime;
    /// Last time `premiumEma` was set.
    uint64 lastPremiumTime;
    /// Open deleverage cases whose counterparties are long: long accounts cannot withdraw meanwhile.
    uint32 longDeleverageCases;
    /// Open deleverage cases whose counterparties are short.
    uint32 shortDeleverageCases;
    /// Time of the block whose fills form the pending premium sample (taken in when its added interest is reset).
    uint64 pendingPremiumTime;
    /// Cumulative socialized loss charged per unit of long size (18 decimals). Both indices share a slot, which
    /// settling reads anyway; 2^128 − 1 (3.4 × 10^20 collateral units per unit of size) is far above any loss a side
    /// can be charged, and a raise past it reverts (checked cast) rather than wraps.
    uint128 longSocialLossIndex;
    /// Cumulative socialized loss charged per unit of short size (18 decimals).
    uint128 shortSocialLossIndex;
    /// Pending sample: Σ premium × open interest added, over the fills of its block (18 decimals).
    int128 pendingPremium;
    /// Pending sample: open interest its fills added.
    uint128 pendingOpenInterestAdded;
    /// Pending sample: one side's open interest before its block's first fill.
    uint128 pendingBaseOpenInterest;
    /// Pending sample: the lowest premium among its fills that added open interest (18 decimals).
    int64 pendingMinPremium;
    /// Pending sample: the highest premium among its fills that added open interest (18 decimals).
    int64 pendingMaxPremium;
}

/// @notice One account's position in one market.
struct Position {
    /// Signed size in base units (18 decimals): positive long, negative short.
    int128 size;
    /// Signed cost basis: Σ size × fill price of the open part, same sign as `size`.
    int128 openNotional;
    /// Market funding index when funding was last settled for this position.
    int128 lastFundingIndex;
    /// Social-loss index of the position's side when its social loss was last settled. Shares the funding index's
    /// slot: every valuation reads both (uint128, as the market's indices).
    uint128 lastSocialLossIndex;
}

/// @notice A maker's signed order (EIP-712 type `Order`). The fill price is `limitPrice`.
struct Order {
    address maker;
    uint256 marketId;
    bool isBuy;
    uint256 size;
    uint256 limitPrice;
    uint256 expiry;
    uint256 nonce;
    bool reduceOnly;
}

/// @notice Margin summary of an account at oracle prices, pending funding included.
struct AccountHealth {
    /// Settled collateral (18 decimals).
    int256 collateral;
    /// collateral + Σ unrealized PnL − Σ funding owed.
    int256 equity;
    /// Σ |size| × price × initialMarginRatio.
    uint256 initialMargin;
    /// Σ |size| × price × maintenanceMarginRatio.
    uint256 maintenanceMargin;
    /// What `withdraw` would accept now, in 18 decimals: min(collateral − funding owed, equity − initialMargin), ≥ 0.
    uint256 freeCollateral;
}

/// @notice A position valued at the oracle price.
struct PositionView {
    int256 size;
    int256 openNotional;
    /// Oracle price used for the valuation (18 decimals).
    uint256 markPrice;
    /// size × markPrice − openNotional, rounded down.
    int256 unrealizedPnl;
    /// Funding the position owes since its last settlement (negative: it is owed funding).
    int256 fundingOwed;
    /// Socialized loss charged to the position and not yet settled into collateral.
    uint256 socialLossOwed;
}

/// @notice Bad debt of a bankrupt account waiting for auto-deleveraging.
struct DeleverageCase {
    bool open;
    /// Side of the counterparties (opposite to the bankrupt position); their withdrawals wait.
    bool longCounterparties;
    uint32 marketId;
    uint64 startedAt;
    /// The deficit when the case opened (18 decimals).
    uint128 initialShortfall;
    /// Paid so far by the insurance fund toward the deficit.
    uint128 fundPaid;
    /// Taken so far from counterparties by auto-deleveraging.
    uint128 deleveraged;
}

/// @notice Inputs of a position's place in the ADL queue (18 decimals).
struct AdlRank {
    /// unrealizedPnl / collateral × notional / equity for a profitable position of a solvent account; 0 otherwise.
    uint256 score;
    int256 unrealizedPnl;
    int256 collateral;
    uint256 notional;
    int256 equity;
}

/// @notice Profit-haircut state of one side of a market (loss policy Haircut; see HaircutLib for the index math).
struct HaircutSide {
    /// Σ over charges of fraction × charge price (18 decimals).
    uint128 priceIndex;
    /// Σ over charges of the fraction of profit taken (18 decimals).
    uint96 rateIndex;
    /// Number of charges so far.
    uint32 charges;
    /// Haircut charged to the side and not yet settled by its positions (18 decimals).
    uint256 debt;
    /// Σ |openNotional| of the side's positions (18 decimals), kept in haircut markets only.
    uint256 costBasis;
}

/// @notice A position's share of its side's charges when it last settled: the sums of fraction × price and of
/// fraction over the charges its entry bucket was in profit for, and the side's charge count then.
struct HaircutSnapshot {
    uint128 priceIndex;
    uint96 rateIndex;
    uint32 charges;
}

/// @notice One market side's positions by entry-price bucket (EntryBookLib): bucket = ⌊256·log2(entry)⌋; summed in
/// haircut markets, counted in ADL markets.
struct EntryBook {
    /// Bit w set: some bucket of word w (buckets w·256 .. w·256 + 255) holds a position.
    uint256 wordBitmap;
    /// Bit i of word w set: bucket w·256 + i holds a position.
    mapping(uint256 word => uint256) bucketBitmap;
    /// Per bucket: Σ|size| (low 128 bits) and Σ|openNotional| (high 128 bits).
    mapping(uint256 bucket => uint256) bucketSums;
    /// Per word: the same sums over its 256 buckets.
    mapping(uint256 word => uint256) wordSums;
    /// Per bucket: the number of positions (ADL markets, which keep the order only, not the sums).
    mapping(uint256 bucket => uint256) counts;
}

/// @notice How a loss event took from traders (ClaimsLib).
enum LossKind {
    /// One ADL step: the counterparty gave up `loss` at once.
    AutoDeleverage,
    /// One profit haircut charge on a side, paid by each winner when it settles.
    Haircut,
    /// One socialization on a side, paid by each position when it settles.
    Socialized
}

/// @notice One loss event: what a rule took from traders, repaid from its claims pool's inflows in event order
/// (ClaimsLib). One slot.
struct LossEvent {
    /// Σ total of all earlier events of the same pool (18 decimals): the event is repaid once that pool's inflows
    /// pass it.
    uint112 start;
    /// What the rule took (18 decimals).
    uint112 total;
    /// The claims pool the event belongs to: 0 the shared pool, 1 + m isolated market m's.
    uint16 pool;
}

/// @notice One claims pool's counters (ClaimsLib): pool 0 is the shared pool (every shared market's loss events,
/// repaid from the shared fee pot's sweeps), pool 1 + m isolated market m's (its loss events, repaid from its own
/// pot's sweeps). Anyone's repayClaims names the pool. One slot.
struct ClaimsPool {
    /// Σ totals of the pool's loss events (18 decimals): the start of its next event.
    uint112 issued;
    /// Σ inflows applied to the pool (18 decimals, never above `issued`).
    uint112 inflow;
    /// Number of the pool's loss events.
    uint32 events;
}

/// @notice One claim of an account: what it paid to one ADL step, or to a window of haircut or socialization events
/// of one market side during which its position did not change (ClaimsLib). An ADL record fills the first slot only.
struct ClaimRecord {
    /// What the account paid: the most the record ever repays (18 decimals).
    uint112 paid;
    /// What it has repaid so far (18 decimals).
    uint112 repaid;
    /// ADL: the event id. Haircut: the side's charge count before the window. Socialized: unused.
    uint32 first;
    LossKind kind;
    /// Haircut and socialized: the market and side (an ADL step's are in its event).
    uint8 marketId;
    bool longSide;
    /// Haircut: the position's entry bucket during the window.
    uint16 bucket;
    /// Haircut and socialized: the side's event count at the end of the window.
    uint32 last;
    /// |size| of the position during the window (haircut, socialized).
    uint128 size;
    /// Haircut: |openNotional| during the window. Socialized: the side's social-loss index before the window.
    uint256 basis;
}

/// @notice An account's claims (18 decimals).
struct ClaimSummary {
    /// Σ paid over its records: the most it can ever be repaid.
    uint256 paid;
    /// Σ repaid so far.
    uint256 repaid;
    /// What claimRepayment would pay now.
    uint256 repayable;
    /// Number of records.
    uint256 records;
}
