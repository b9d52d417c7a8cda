// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IClearingHouseErrors
/// @notice Custom errors of the clearing house and its libraries (as OpenZeppelin's IERC6093 groups ERC errors).
/// Every error names what was wrong and the values involved; a reverted call changes nothing.
interface IClearingHouseErrors {
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
    /// @notice The account holds no position to liquidate.
    error NoOpenPositions(address account);
    /// @notice The account's bad debt is being deleveraged; use autoDeleverage (or socializeAfterTimeout).
    error DeleverageInProgress(address account, uint256 marketId);
    /// @notice The account has no open deleverage case in this market.
    error NoDeleverageCase(address account, uint256 marketId);
    /// @notice The account's equity is not negative.
    error NotBankrupt(address account, int256 equity);
    /// @notice The counterparty has no position on the other side of the bankrupt position.
    error CounterpartyWrongSide(address counterparty, int256 size);
    /// @notice ADL takes the side's most profitable entries first: the counterparty's entry bucket is not the first
    /// one its side holds (see LiquidationMath.adlScore).
    error DeleverageOutOfOrder(address counterparty, uint256 bucket, uint256 firstBucket);
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
    /// @notice Only the insurance fund may call this (a default-fund assessment).
    error NotInsuranceFund(address caller);
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
    /// @notice `repayClaims` was offered more than the claims outstanding in `pool` (both 18 decimals).
    error ClaimsRepaymentExceedsOutstanding(uint256 pool, uint256 amount, uint256 outstanding);
    /// @notice `account` may not open a position in `marketId` while it holds one in `heldMarketId`: one of the
    /// two is an isolated market, whose positions live alone in their account (use another account).
    error IsolatedMarketConflict(address account, uint256 marketId, uint256 heldMarketId);
    /// @notice `fund` already backs the shared layers or another isolated market; an isolated market needs its own.
    error FundAlreadyInUse(address fund);
    /// @notice The market is not isolated: it has no fund or fee pot of its own.
    error NotIsolatedMarket(uint256 marketId);
    /// @notice A clearing member's withdrawal, or a fill that lowers its free collateral, would leave less free
    /// collateral (`left`) than what it may still be assessed this period (`reserve`), both 18 decimals; it stays
    /// until the member has left the fund.
    error AssessmentReserveRequired(address member, uint256 left, uint256 reserve);
    /// @notice `account` is a clearing member of `fund` already: one fund per account (use another account).
    error MemberOfAnotherFund(address account, address fund);
    /// @notice `fund` asked to clear the member mark of `account`, which is not its member.
    error NotMemberOfFund(address account, address fund);
    /// @notice {IClearingHouse.batch} was given no calls.
    error EmptyBatch();
}
