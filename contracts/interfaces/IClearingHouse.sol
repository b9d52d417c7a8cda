// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./external/AggregatorV3Interface.sol";

/// @notice What happens to bad debt the insurance fund cannot pay, chosen when a market is listed.
enum LossPolicy {
    AutoDeleverage,
    Socialized
}

/// @notice Risk parameters of one market. Ratios are 18-decimal fractions (1e18 = 100%).
/// @dev Packed into four storage slots; every field is kept inside the hard bounds of {MarketParamsLib}.
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
    /// Cumulative socialized loss charged per unit of long size (18 decimals).
    uint256 longSocialLossIndex;
    /// Cumulative socialized loss charged per unit of short size (18 decimals).
    uint256 shortSocialLossIndex;
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
    /// Social-loss index of the position's side when its social loss was last settled.
    uint256 lastSocialLossIndex;
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

/// @title IClearingHouse
/// @notice The single entry point of Backstop for traders: collateral, signed-order trading, funding, views.
/// @dev Token amounts passed in calls, and in the events that mirror them (Deposited, Withdrawn,
/// ProtocolFeesWithdrawn), are in the token's own decimals; internal accounting, every other event and all
/// views use 18 decimals. Rounding always favours the protocol.
interface IClearingHouse {
    // ---------------------------------------------------------------- errors

    /// @notice An amount or size of zero was given.
    error ZeroAmount();
    /// @notice The zero address was given where an account or receiver is required.
    error InvalidAddress(address account);
    /// @notice The collateral token has more than 18 decimals.
    error UnsupportedTokenDecimals(uint8 decimals);
    /// @notice The token moved a different amount than asked (fee-on-transfer or rebasing token).
    error TransferAmountMismatch(uint256 expected, uint256 received);
    /// @notice No market with this id is listed.
    error UnknownMarket(uint256 marketId);
    /// @notice Every market id is taken.
    error MarketLimitReached(uint256 max);
    /// @notice A market parameter is outside its hard bounds.
    error MarketParamOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The loss policy of a listed market cannot change.
    error LossPolicyImmutable(uint256 marketId);
    /// @notice The insurance share of fees exceeds 100%.
    error InsuranceFeeShareOutOfBounds(uint256 share);
    /// @notice The account's settled collateral is smaller than the amount asked for.
    error InsufficientCollateral(address account, int256 available, uint256 requested);
    /// @notice After the operation the account's equity would be below its initial margin.
    error InsufficientMargin(address account, int256 equity, uint256 initialMargin);
    /// @notice A position-reducing fill would leave the account with negative equity.
    error NegativeEquity(address account, int256 equity);
    /// @notice Protocol fees held are smaller than the amount asked for.
    error InsufficientProtocolFees(uint256 available, uint256 requested);
    /// @notice The order's expiry has passed.
    error OrderExpired(bytes32 orderHash, uint256 expiry);
    /// @notice The order was cancelled by its maker.
    error OrderCancelled(bytes32 orderHash);
    /// @notice The order's nonce is below the maker's minimum valid nonce.
    error OrderNonceInvalidated(address maker, uint256 nonce, uint256 minValidNonce);
    /// @notice The fill would exceed the order's size.
    error OrderOverfill(bytes32 orderHash, uint256 filled, uint256 requested, uint256 size);
    /// @notice The signature is not the maker's (neither ECDSA nor ERC-1271).
    error InvalidSignature(address maker, bytes32 orderHash);
    /// @notice Only the maker may cancel its order.
    error NotOrderMaker(address caller, address maker);
    /// @notice A new minimum nonce must be above the current one.
    error NonceNotIncreasing(uint256 current, uint256 requested);
    /// @notice Maker and taker are the same account.
    error SelfTrade(address account);
    /// @notice A reduce-only order would increase or flip the maker's position.
    error ReduceOnlyViolated(bytes32 orderHash, int256 positionSize, int256 sizeDelta);
    /// @notice The fill price lies outside the band around the oracle price.
    error PriceOutsideBand(uint256 price, uint256 oraclePrice, uint256 band);
    /// @notice The fill would push a side's open interest above the market's cap.
    error OpenInterestCapExceeded(uint256 marketId, uint256 openInterest, uint256 cap);
    /// @notice The account already holds positions in the maximum number of markets.
    error TooManyOpenMarkets(address account, uint256 max);
    /// @notice The account's equity is at or above its maintenance margin.
    error NotLiquidatable(address account, int256 equity, uint256 maintenanceMargin);
    /// @notice An account cannot liquidate or deleverage against itself.
    error SelfLiquidation(address account);
    /// @notice The account has no position in the market.
    error NoPosition(address account, uint256 marketId);
    /// @notice The account's bad debt is being deleveraged; use autoDeleverage (or socializeAfterTimeout).
    error DeleverageInProgress(address account, uint256 marketId);
    /// @notice The account has no open deleverage case in this market.
    error NoDeleverageCase(address account, uint256 marketId);
    /// @notice The account's equity is not negative.
    error NotBankrupt(address account, int256 equity);
    /// @notice The counterparty has no position on the other side of the bankrupt position.
    error CounterpartyWrongSide(address counterparty, int256 size);
    /// @notice The counterparty's position is not in profit.
    error CounterpartyNotProfitable(address counterparty, int256 unrealizedPnl);
    /// @notice Deleveraging this counterparty would take more than the unrealized profit of the closed part,
    /// or more than its equity; `profit` is the smaller of the two (zero for an insolvent counterparty).
    error DeleverageExceedsProfit(address counterparty, uint256 loss, uint256 profit);
    /// @notice The deleverage case has not been open long enough to switch to socialization.
    error DeleverageTimeoutNotReached(address account, uint256 readyAt);
    /// @notice Withdrawals of accounts on the side that may be deleveraged wait until the case is resolved.
    error WithdrawalLockedByDeleverage(address account, uint256 marketId);
    /// @notice The insurance fund is set once.
    error InsuranceFundAlreadySet(address fund);
    /// @notice Nobody is left on the side a loss would be socialized over: the liquidator was its last position.
    error NoPositionsToCharge(uint256 marketId, bool longSide);
    /// @notice A bankrupt account's largest position (by notional) is liquidated last: its deficit is realized
    /// there, over a side at least that large.
    error LargestPositionGoesLast(address account, uint256 marketId);
    /// @notice A deleverage case is open on this side of the market: until it is resolved, fills can neither
    /// add to the side nor leave it, so that what was on it when the case opened stays charged and nobody
    /// who joins later is.
    error SideFrozenByDeleverage(uint256 marketId, bool longSide);
    /// @notice The deleverage timeout is outside its bounds.
    error DeleverageTimeoutOutOfBounds(uint256 timeout, uint256 min, uint256 max);

    // ---------------------------------------------------------------- events

    /// @notice `from` paid `amount` (token decimals) into `account`.
    event Deposited(address indexed account, address indexed from, uint256 amount);
    /// @notice `account` took `amount` (token decimals) out.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice A market was listed with these parameters.
    event MarketListed(uint256 indexed marketId, MarketParams params);
    /// @notice A market's parameters were replaced.
    event MarketParamsUpdated(uint256 indexed marketId, MarketParams params);
    /// @notice The insurance share of trading fees changed.
    event InsuranceFeeShareUpdated(uint256 share);
    /// @notice A market's funding index was brought up to date.
    /// @param fundingIndex The new cumulative index.
    /// @param fundingRate The clamped daily rate applied.
    event FundingAccrued(uint256 indexed marketId, int256 fundingIndex, int256 fundingRate, uint256 oraclePrice);
    /// @notice Funding of one position was settled into its account's collateral.
    /// @param amount Funding the account paid (negative: received), 18 decimals.
    event FundingSettled(address indexed account, uint256 indexed marketId, int256 amount);
    /// @notice A position changed through a fill. `realizedPnl` and `fee` are already applied to collateral.
    event PositionChanged(
        address indexed account,
        uint256 indexed marketId,
        int256 size,
        int256 openNotional,
        int256 realizedPnl,
        uint256 fee
    );
    /// @notice `size` of an order was filled at `price` (the order's limit price).
    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed maker,
        address indexed taker,
        uint256 marketId,
        bool makerIsBuy,
        uint256 size,
        uint256 price
    );
    /// @notice The maker cancelled one order.
    event OrderCancelledByMaker(bytes32 indexed orderHash, address indexed maker);
    /// @notice The maker invalidated every order with a nonce below `minValidNonce`.
    event NoncesInvalidated(address indexed maker, uint256 minValidNonce);
    /// @notice Trading fees were charged on a fill.
    /// @param toInsurance Part of `fee` set aside for the insurance fund; the rest is protocol revenue.
    event FeesCollected(uint256 indexed marketId, uint256 fee, uint256 toInsurance);
    /// @notice Protocol fee revenue (token decimals) left for `to`.
    event ProtocolFeesWithdrawn(address indexed to, uint256 amount);
    /// @notice Step 1 of the waterfall: `liquidator` took `size` (signed, the account's side) of the account's
    /// position at the oracle price moved by `reward` in its favour; `fee` went to the insurance fund. For a
    /// bankrupt account the price is the oracle's and `reward` is what the fund paid the liquidator, after the
    /// deficit.
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        uint256 indexed marketId,
        int256 size,
        uint256 oraclePrice,
        uint256 reward,
        uint256 fee,
        bool bankrupt
    );
    /// @notice Step 2: the insurance fund paid `amount` to `recipient`: the bankrupt account's deficit, or
    /// the liquidator's reward for a bankrupt account.
    event InsuranceFundDrawn(address indexed account, address indexed recipient, uint256 amount);
    /// @notice The fund could not pay a bankrupt account's deficit in an ADL market: it waits for
    /// autoDeleverage, each step of which first draws what the fund can pay then. Withdrawals on the
    /// counterparties' side wait meanwhile.
    /// @param fundAvailable What the fund (with the fees set aside for it) could have paid when the case opened.
    event DeleverageRequired(
        address indexed account,
        uint256 indexed marketId,
        uint256 shortfall,
        uint256 fundAvailable
    );
    /// @notice Step 3 (ADL): `size` of the bankrupt position closed against `counterparty` at `price`; the
    /// counterparty gave up `loss` against the oracle. `score` is its ADL score before the trade.
    event Deleveraged(
        address indexed account,
        address indexed counterparty,
        uint256 indexed marketId,
        uint256 size,
        uint256 price,
        uint256 loss,
        uint256 score
    );
    /// @notice Step 3 (socialized): `amount` charged to every position of one side, `indexDelta` per unit.
    event LossSocialized(uint256 indexed marketId, bool longSide, uint256 amount, uint256 indexDelta);
    /// @notice A position's share of socialized losses was settled into its account's collateral.
    event SocialLossSettled(address indexed account, uint256 indexed marketId, uint256 amount);
    /// @notice Receipt of one bad-debt resolution: shortfall = fundPaid + deleveraged + socialized, to the wei.
    event BadDebtResolved(
        address indexed account,
        uint256 indexed marketId,
        uint256 shortfall,
        uint256 fundPaid,
        uint256 deleveraged,
        uint256 socialized,
        uint256 socializedPerUnit
    );
    /// @notice Fees set aside for the insurance fund were paid to it (token decimals).
    event InsuranceFeesSwept(uint256 amount);
    /// @notice The insurance fund was connected.
    event InsuranceFundSet(address fund);
    /// @notice The time after which a stuck deleverage case may be socialized changed.
    event DeleverageTimeoutUpdated(uint256 timeout);

    // ---------------------------------------------------------------- collateral

    /// @notice Deposits `amount` of the collateral token (token decimals) from the caller into its own account.
    function deposit(uint256 amount) external;

    /// @notice Deposits `amount` (token decimals) from the caller into `account`.
    /// @dev Reverts with {TransferAmountMismatch} if the contract receives anything but `amount`.
    function depositFor(address account, uint256 amount) external;

    /// @notice Withdraws `amount` (token decimals) to the caller. Settles funding in all the caller's markets
    /// first; the caller must keep `equity ≥ initialMargin` and non-negative collateral. Never paused.
    function withdraw(uint256 amount) external;

    // ---------------------------------------------------------------- trading

    /// @notice Fills `fillSize` of a maker's signed order at its limit price; the caller is the taker.
    /// @dev The price must lie within the market's band around the oracle; both sides must meet initial
    /// margin afterwards unless the fill only reduces their position.
    /// @return orderHash The EIP-712 digest of the order.
    function fillOrder(
        Order calldata order,
        bytes calldata signature,
        uint256 fillSize
    ) external returns (bytes32 orderHash);

    /// @notice Cancels one order; only its maker may.
    function cancelOrder(Order calldata order) external;

    /// @notice Invalidates every order of the caller with a nonce below `minValidNonce`.
    function cancelOrdersBelowNonce(uint256 minValidNonce) external;

    // ---------------------------------------------------------------- loss waterfall

    /// @notice Liquidates `account` in `marketId`; anyone may call when equity < maintenance margin. The
    /// caller takes over the position and must stay above initial margin.
    /// @dev Solvent account: at most `size`, and no more than restores maintenance margin (all of it when
    /// the rest would be dust), at the oracle price moved against the account by the liquidation discount
    /// (the caller's reward); a liquidation fee goes to the insurance fund; reward and fee never push equity
    /// below zero. Bankrupt account (equity < 0): the whole position passes to the caller at the oracle
    /// price with no reward; a position that is not the account's last must not be its largest by notional
    /// ({LargestPositionGoesLast}). When it is the last, the deficit is realized first, before the position
    /// moves: the fund pays what it can; the rest is socialized over the other side of the market as it stands
    /// (the caller's own position included; policy Socialized) or, in an ADL market, waits for
    /// autoDeleverage — then this call opens a
    /// deleverage case instead of moving the position, and later calls revert {DeleverageInProgress} while the
    /// account is bankrupt. Once it has recovered, a call closes the case (and stops there if the account is
    /// no longer liquidatable).
    function liquidate(address account, uint256 marketId, uint256 size) external;

    /// @notice Closes up to `size` of a bankrupt account's position against a profitable opposite position,
    /// which gives up its pro rata share of what the insurance fund cannot pay. Anyone may call.
    /// @dev Checks: an open deleverage case in `marketId`, negative equity, the counterparty on the other side
    /// and in profit, and that the counterparty gives up no more than the unrealized profit of the part closed.
    /// The fund pays only once the account holds no position: after the last part, or at once when what it can
    /// pay covers the whole deficit — then the caller takes the whole position over at the oracle price, as in
    /// a liquidation (and must meet the same margin), and the case closes.
    function autoDeleverage(address account, uint256 marketId, address counterparty, uint256 size) external;

    /// @notice After the deleverage timeout, socializes what the fund cannot pay over the counterparties' side
    /// as it stands (the caller's own position included), then hands the rest of the stuck position to the
    /// caller at the oracle price.
    function socializeAfterTimeout(address account) external;

    /// @notice Pays the fees set aside for the insurance fund to it (whole token units) and starts the fund's
    /// income stream at this block (IInsuranceFund.syncIncome). Anyone may call.
    function sweepInsuranceFees() external;

    // ---------------------------------------------------------------- administration

    /// @notice Connects the insurance fund, once. Admin role.
    function setInsuranceFund(address fund) external;

    /// @notice Sets how long a deleverage case may stay open before anyone may socialize it. Risk-manager role.
    function setDeleverageTimeout(uint256 timeout) external;

    /// @notice Lists a market; risk-manager role. Checks every parameter's bounds and that the feed answers.
    /// @return marketId The new market's id (ids count up from zero).
    function listMarket(MarketParams calldata params) external returns (uint256 marketId);

    /// @notice Replaces a market's parameters inside their bounds; the loss policy stays. Risk-manager role.
    function updateMarketParams(uint256 marketId, MarketParams calldata params) external;

    /// @notice Sets the share of trading fees set aside for the insurance fund. Risk-manager role.
    function setInsuranceFeeShare(uint256 share) external;

    /// @notice Sends protocol fee revenue (token decimals) to `to`. Treasury role.
    function withdrawProtocolFees(address to, uint256 amount) external;

    /// @notice Pauses every fill that does not reduce both sides; deposits, withdrawals, reducing fills and the
    /// loss waterfall go on. Pauser role.
    function pause() external;

    /// @notice Lifts the pause. Pauser role.
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The collateral token of this deployment.
    function collateralToken() external view returns (address);

    /// @notice The oracle adapter all markets read through.
    function oracle() external view returns (address);

    /// @notice The account's margin summary at current oracle prices, pending funding included.
    function accountHealth(address account) external view returns (AccountHealth memory);

    /// @notice The account's position in a market valued at the oracle price, pending funding included.
    function positionOf(address account, uint256 marketId) external view returns (PositionView memory);

    /// @notice Market ids in which the account holds a non-zero position.
    function openMarketsOf(address account) external view returns (uint256[] memory);

    /// @notice Settled collateral of an account (18 decimals); pending funding not applied.
    function collateralOf(address account) external view returns (int256);

    /// @notice A market's parameters.
    function marketParams(uint256 marketId) external view returns (MarketParams memory);

    /// @notice A market's state with funding brought up to the current block.
    function marketState(uint256 marketId) external view returns (MarketState memory);

    /// @notice The market's current funding rate per day, clamped (positive: longs pay shorts).
    function fundingRate(uint256 marketId) external view returns (int256);

    /// @notice Number of listed markets.
    function marketCount() external view returns (uint256);

    /// @notice EIP-712 digest of an order, the value a maker signs.
    function hashOrder(Order calldata order) external view returns (bytes32);

    /// @notice Size already filled of an order and whether it was cancelled.
    function orderStatus(bytes32 orderHash) external view returns (uint256 filled, bool cancelled);

    /// @notice Orders of `maker` with a nonce below this are invalid.
    function minValidNonce(address maker) external view returns (uint256);

    /// @notice Protocol fee revenue held (18 decimals).
    function protocolFees() external view returns (uint256);

    /// @notice Fees set aside for the insurance fund and not yet paid to it (18 decimals).
    function insuranceFees() external view returns (uint256);

    /// @notice Share of trading fees set aside for the insurance fund (18 decimals).
    function insuranceFeeShare() external view returns (uint256);

    /// @notice The insurance fund (zero until connected).
    function insuranceFund() external view returns (address);

    /// @notice Seconds a deleverage case stays open before it may be socialized.
    function deleverageTimeout() external view returns (uint256);

    /// @notice The account's deleverage case (open or the last one closed).
    function deleverageCaseOf(address account) external view returns (DeleverageCase memory);

    /// @notice Number of open deleverage cases across all markets; the fund's unstakes wait while non-zero.
    function openDeleverageCases() external view returns (uint256);

    /// @notice ADL score and its inputs for the account's position in a market, at oracle prices.
    function adlRank(address account, uint256 marketId) external view returns (AdlRank memory);

    /// @notice Price at which closing the account's whole position in `marketId` leaves its equity at zero,
    /// its other positions valued at the oracle; zero without a position.
    function bankruptcyPrice(address account, uint256 marketId) external view returns (int256);
}
