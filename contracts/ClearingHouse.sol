// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {
    IClearingHouse,
    AccountHealth,
    AdlRank,
    ClaimSummary,
    ClaimsPool,
    DeleverageCase,
    HaircutSide,
    IsolatedPool,
    MarketParams,
    MarketState,
    Order,
    Position,
    PositionView
} from "./interfaces/IClearingHouse.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {FillLogic} from "./libraries/FillLogic.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";
import {FundingLogic} from "./libraries/FundingLogic.sol";
import {FundingMath} from "./libraries/FundingMath.sol";
import {AllocationLogic} from "./libraries/AllocationLogic.sol";
import {Ledger, LedgerLib} from "./libraries/Ledger.sol";
import {LiquidationLogic} from "./libraries/LiquidationLogic.sol";
import {MarketSet} from "./libraries/MarketSet.sol";
import {MemberReserveLib} from "./libraries/MemberReserveLib.sol";
import {OrderLib} from "./libraries/OrderLib.sol";
import {PositionMath} from "./libraries/PositionMath.sol";

/// @title ClearingHouse
/// @notice Holds margin, matches signed orders peer to peer, accrues funding, and runs the loss waterfall
/// through its {LiquidationLogic} library; a fill and its margin checks are in {FillLogic}, market listing and
/// parameter changes in {FundingLogic}.
/// See {IClearingHouse}.
/// @dev Collateral is kept per account as a signed 18-decimal balance. Unrealized PnL, funding and socialized
/// loss are not in it until a position is touched; every view adds them at the oracle price. Token amounts
/// convert to 18 decimals by an exact multiplication, and only whole token units leave the contract, so the
/// contract's token balance always covers Σ equity + fees held while no account is bankrupt (see
/// PositionMath and FundingMath for why trading and funding cannot create value).
contract ClearingHouse is IClearingHouse, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using LedgerLib for Ledger;

    /// @notice Lists markets and moves their parameters inside the hard bounds.
    bytes32 public constant RISK_MANAGER_ROLE = keccak256("RISK_MANAGER_ROLE");
    /// @notice Pauses and unpauses trading that adds risk.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Withdraws protocol fee revenue.
    bytes32 public constant TREASURY_ROLE = keccak256("TREASURY_ROLE");

    /// @notice Most markets one account may hold positions in; bounds the cost of every margin check.
    uint256 public constant MAX_OPEN_MARKETS = LedgerLib.MAX_OPEN_MARKETS;
    /// @notice Most markets that can be listed: ids must fit the 256-bit {MarketSet}.
    uint256 public constant MAX_MARKETS = 256;
    /// @notice Shortest deleverage timeout.
    uint256 public constant MIN_DELEVERAGE_TIMEOUT = 1 minutes;
    /// @notice Longest deleverage timeout.
    uint256 public constant MAX_DELEVERAGE_TIMEOUT = 7 days;

    IERC20 private immutable _token;
    IOracleAdapter private immutable _oracle;
    /// @dev 10^(18 − token decimals): token units → 18-decimal units.
    uint256 private immutable _scale;

    Ledger private _ledger;

    /// @param token_ The collateral token (at most 18 decimals, no fee on transfer).
    /// @param oracle_ The oracle adapter.
    /// @param admin Receives the admin role, which grants the others.
    /// @param insuranceFeeShare_ Share of trading fees set aside for the insurance fund (18 decimals).
    constructor(
        IERC20Metadata token_,
        IOracleAdapter oracle_,
        address admin,
        uint256 insuranceFeeShare_
    ) EIP712("Backstop", "1") {
        if (address(token_) == address(0)) revert InvalidAddress(address(0));
        if (address(oracle_) == address(0)) revert InvalidAddress(address(0));
        if (admin == address(0)) revert InvalidAddress(address(0));
        uint8 decimals = token_.decimals();
        if (decimals > 18) revert UnsupportedTokenDecimals(decimals);
        _token = IERC20(address(token_));
        _oracle = oracle_;
        _scale = 10 ** (18 - decimals);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setInsuranceFeeShare(insuranceFeeShare_);
        _setDeleverageTimeout(1 hours);
    }

    // ================================================================ collateral

    /// @inheritdoc IClearingHouse
    function deposit(uint256 amount) external {
        depositFor(msg.sender, amount);
    }

    /// @inheritdoc IClearingHouse
    function depositFor(address account, uint256 amount) public nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (account == address(0)) revert InvalidAddress(account);
        _pullExact(msg.sender, amount);
        _ledger.addCollateral(account, (amount * _scale).toInt256());
        emit Deposited(account, msg.sender, amount);
    }

    /// @inheritdoc IClearingHouse
    function withdraw(uint256 amount) external nonReentrant {
        LiquidationLogic.withdraw(_ledger, _oracle, _token, _scale, amount);
    }

    // ================================================================ trading

    /// @inheritdoc IClearingHouse
    function fillOrder(
        Order calldata order,
        bytes calldata signature,
        uint256 fillSize
    ) external nonReentrant returns (bytes32 orderHash) {
        orderHash = _hashTypedDataV4(OrderLib.structHash(order));
        FillLogic.fillOrder(_ledger, _oracle, _scale, order, orderHash, signature, fillSize, paused());
    }

    /// @inheritdoc IClearingHouse
    function cancelOrder(Order calldata order) external {
        if (msg.sender != order.maker) revert NotOrderMaker(msg.sender, order.maker);
        bytes32 orderHash = _hashTypedDataV4(OrderLib.structHash(order));
        if (_ledger.cancelled[orderHash]) revert OrderCancelled(orderHash);
        _ledger.cancelled[orderHash] = true;
        emit OrderCancelledByMaker(orderHash, order.maker);
    }

    /// @inheritdoc IClearingHouse
    function cancelOrdersBelowNonce(uint256 newMinValidNonce) external {
        uint256 current = _ledger.minValidNonce[msg.sender];
        if (newMinValidNonce <= current) revert NonceNotIncreasing(current, newMinValidNonce);
        _ledger.minValidNonce[msg.sender] = newMinValidNonce;
        emit NoncesInvalidated(msg.sender, newMinValidNonce);
    }

    // ================================================================ loss waterfall

    /// @inheritdoc IClearingHouse
    function liquidate(address account, uint256 marketId, uint256 size) external nonReentrant {
        int256 before = _memberFreeBefore();
        LiquidationLogic.liquidate(_ledger, _oracle, _scale, account, marketId, size);
        _requireMemberReserveKept(before);
    }

    /// @inheritdoc IClearingHouse
    function liquidateAccount(address account) external nonReentrant {
        int256 before = _memberFreeBefore();
        LiquidationLogic.liquidateAccount(_ledger, _oracle, _scale, account);
        _requireMemberReserveKept(before);
    }

    /// @inheritdoc IClearingHouse
    function autoDeleverage(
        address account,
        uint256 marketId,
        address counterparty,
        uint256 size
    ) external nonReentrant {
        int256 before = _memberFreeBefore();
        LiquidationLogic.autoDeleverage(_ledger, _oracle, _scale, account, marketId, counterparty, size);
        _requireMemberReserveKept(before);
    }

    /// @inheritdoc IClearingHouse
    function socializeAfterTimeout(address account) external nonReentrant {
        int256 before = _memberFreeBefore();
        LiquidationLogic.socializeAfterTimeout(_ledger, _oracle, _scale, account);
        _requireMemberReserveKept(before);
    }

    /// @dev A member calling a liquidation, ADL step or socialization may be handed a position: its free collateral
    /// before, for {_requireMemberReserveKept} (the member-dodge rule, MemberReserveLib). 0 and no call for others.
    function _memberFreeBefore() private view returns (int256) {
        if (_ledger.accounts[msg.sender].memberOf == 0) return 0;
        return MemberReserveLib.freeBefore(_ledger, _oracle, msg.sender);
    }

    /// @dev The caller, if a member, kept its reserve or did not lower its free collateral.
    function _requireMemberReserveKept(int256 before) private view {
        if (_ledger.accounts[msg.sender].memberOf == 0) return;
        MemberReserveLib.requireKeptAfter(_ledger, _oracle, _scale, msg.sender, before);
    }

    /// @inheritdoc IClearingHouse
    function sweepInsuranceFees() external nonReentrant {
        LiquidationLogic.sweepInsuranceFees(_ledger, _token, _scale);
    }

    /// @inheritdoc IClearingHouse
    function claimRepayment(address account, uint256 maxRecords) external nonReentrant returns (uint256) {
        return AllocationLogic.claimRepayment(_ledger, account, maxRecords);
    }

    /// @inheritdoc IClearingHouse
    function repayClaims(uint256 pool, uint256 amount) external nonReentrant {
        AllocationLogic.repayClaims(_ledger, pool, amount * _scale);
        _pullExact(msg.sender, amount);
    }

    /// @inheritdoc IClearingHouse
    function sweepIsolatedFees(uint256 marketId) external nonReentrant {
        LiquidationLogic.sweepIsolatedFees(_ledger, _token, _scale, marketId);
    }

    /// @inheritdoc IClearingHouse
    /// @dev Not nonReentrant: it runs inside a liquidation's draw. Only a connected fund (the shared one or an
    /// isolated market's) may call it, and a fund's draw only the clearing house.
    function collectAssessment(address member, uint256 amount) external returns (uint256) {
        return LiquidationLogic.collectAssessment(_ledger, _oracle, _token, _scale, member, amount);
    }

    /// @inheritdoc IClearingHouse
    function markMember(address account, bool member) external {
        MemberReserveLib.markMember(_ledger, account, member);
    }

    // ================================================================ administration

    /// @inheritdoc IClearingHouse
    function listMarket(MarketParams calldata params) external onlyRole(RISK_MANAGER_ROLE) returns (uint256 marketId) {
        return FundingLogic.listMarket(_ledger, _oracle, params, MAX_MARKETS);
    }

    /// @inheritdoc IClearingHouse
    function listIsolatedMarket(
        MarketParams calldata params,
        address fund
    ) external onlyRole(RISK_MANAGER_ROLE) returns (uint256) {
        return FundingLogic.listIsolatedMarket(_ledger, _oracle, params, MAX_MARKETS, fund);
    }

    /// @inheritdoc IClearingHouse
    function updateMarketParams(uint256 marketId, MarketParams calldata params) external onlyRole(RISK_MANAGER_ROLE) {
        FundingLogic.updateMarketParams(_ledger, _oracle, marketId, params);
    }

    /// @inheritdoc IClearingHouse
    function setInsuranceFeeShare(uint256 share) external onlyRole(RISK_MANAGER_ROLE) {
        _setInsuranceFeeShare(share);
    }

    /// @inheritdoc IClearingHouse
    function setInsuranceFund(address fund) external onlyRole(DEFAULT_ADMIN_ROLE) {
        FundingLogic.setInsuranceFund(_ledger, fund);
    }

    /// @inheritdoc IClearingHouse
    function setDeleverageTimeout(uint256 timeout) external onlyRole(RISK_MANAGER_ROLE) {
        _setDeleverageTimeout(timeout);
    }

    /// @inheritdoc IClearingHouse
    function withdrawProtocolFees(address to, uint256 amount) external onlyRole(TREASURY_ROLE) nonReentrant {
        FundingLogic.withdrawProtocolFees(_ledger, _token, _scale, to, amount);
    }

    /// @inheritdoc IClearingHouse
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IClearingHouse
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ================================================================ batch

    /// @inheritdoc IClearingHouse
    /// @dev Each item is a delegatecall to this contract's own code, as OpenZeppelin's Multicall: it runs in this
    /// contract's storage with the caller's msg.sender and msg.value 0 (batch is not payable), so it can do exactly
    /// what the caller could do by calling that function directly — roles, makers, members and the member reserve
    /// are checked per item by the function itself. Not nonReentrant: each item's own guard applies (the guard is
    /// transient storage of this contract, which a delegatecall shares), so a batch entered from inside a guarded
    /// call gets nothing through a guarded function. A failed item's state changes and events are undone by its
    /// frame's revert; it emits {BatchItemFailed} instead, and the items after it still run.
    function batch(bytes[] calldata calls) external returns (bool[] memory ok, bytes[] memory results) {
        uint256 n = calls.length;
        if (n == 0) revert EmptyBatch();
        ok = new bool[](n);
        results = new bytes[](n);
        for (uint256 i; i < n; ++i) {
            // solhint-disable-next-line avoid-low-level-calls
            (ok[i], results[i]) = address(this).delegatecall(calls[i]);
            if (!ok[i]) emit BatchItemFailed(i, results[i]);
        }
    }

    // ================================================================ views

    /// @inheritdoc IClearingHouse
    function collateralToken() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IClearingHouse
    function oracle() external view returns (address) {
        return address(_oracle);
    }

    /// @inheritdoc IClearingHouse
    function accountHealth(address account) external view returns (AccountHealth memory) {
        return FillLogic.accountHealth(_ledger, _oracle, account);
    }

    /// @inheritdoc IClearingHouse
    function positionOf(address account, uint256 marketId) external view returns (PositionView memory view_) {
        MarketParams memory params = _ledger.market(marketId);
        Position memory position = _ledger.positions[account][marketId];
        uint256 price = LedgerLib.price(_oracle, params);
        view_.size = position.size;
        view_.openNotional = position.openNotional;
        view_.markPrice = price;
        view_.unrealizedPnl = PositionMath.unrealizedPnl(position.size, position.openNotional, price);
        view_.fundingOwed = FundingMath.owed(
            position.size,
            position.lastFundingIndex,
            _ledger.currentFundingIndex(marketId, params, price)
        );
        view_.socialLossOwed = LedgerLib.socialLossOwed(
            position,
            LedgerLib.socialLossIndex(_ledger.marketStates[marketId], position.size)
        );
    }

    /// @inheritdoc IClearingHouse
    function openMarketsOf(address account) external view returns (uint256[] memory) {
        return MarketSet.toArray(_ledger.openMarkets[account]);
    }

    /// @inheritdoc IClearingHouse
    function collateralOf(address account) external view returns (int256) {
        return _ledger.accounts[account].collateral;
    }

    /// @inheritdoc IClearingHouse
    function marketParams(uint256 marketId) external view returns (MarketParams memory) {
        return _ledger.market(marketId);
    }

    /// @inheritdoc IClearingHouse
    function marketState(uint256 marketId) external view returns (MarketState memory state) {
        MarketParams memory params = _ledger.market(marketId);
        state = _ledger.marketStates[marketId];
        state.fundingIndex = _ledger.currentFundingIndex(marketId, params, LedgerLib.price(_oracle, params)).toInt128();
        state.lastFundingTime = uint64(block.timestamp);
    }

    /// @inheritdoc IClearingHouse
    function fundingRate(uint256 marketId) external view returns (int256) {
        MarketParams memory params = _ledger.market(marketId);
        return LedgerLib.fundingRate(_ledger.marketStates[marketId], params);
    }

    /// @inheritdoc IClearingHouse
    function marketCount() external view returns (uint256) {
        return _ledger.marketCount;
    }

    /// @inheritdoc IClearingHouse
    function hashOrder(Order calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(OrderLib.structHash(order));
    }

    /// @inheritdoc IClearingHouse
    function orderStatus(bytes32 orderHash) external view returns (uint256 filled, bool cancelled) {
        return (_ledger.filled[orderHash], _ledger.cancelled[orderHash]);
    }

    /// @inheritdoc IClearingHouse
    function minValidNonce(address maker) external view returns (uint256) {
        return _ledger.minValidNonce[maker];
    }

    /// @inheritdoc IClearingHouse
    function protocolFees() external view returns (uint256) {
        return _ledger.protocolFees;
    }

    /// @inheritdoc IClearingHouse
    function insuranceFees() external view returns (uint256) {
        return _ledger.insuranceFees;
    }

    /// @inheritdoc IClearingHouse
    function insuranceFeeShare() external view returns (uint256) {
        return _ledger.insuranceFeeShare;
    }

    /// @inheritdoc IClearingHouse
    function isolatedPool(uint256 marketId) external view returns (IsolatedPool memory) {
        return _ledger.isolatedPools[marketId];
    }

    /// @inheritdoc IClearingHouse
    function insuranceFund() external view returns (address) {
        return address(_ledger.insuranceFund);
    }

    /// @inheritdoc IClearingHouse
    function deleverageTimeout() external view returns (uint256) {
        return _ledger.deleverageTimeout;
    }

    /// @inheritdoc IClearingHouse
    function deleverageCaseOf(address account) external view returns (DeleverageCase memory) {
        return _ledger.deleverageCases[account];
    }

    /// @inheritdoc IClearingHouse
    function openDeleverageCases() external view returns (uint256) {
        return _ledger.openDeleverageCases;
    }

    /// @inheritdoc IClearingHouse
    function adlRank(address account, uint256 marketId) external view returns (AdlRank memory) {
        return LiquidationLogic.adlRank(_ledger, _oracle, account, marketId);
    }

    /// @inheritdoc IClearingHouse
    function haircutOwed(address account, uint256 marketId) external view returns (uint256) {
        Position memory position = _ledger.positions[account][marketId];
        return AllocationLogic.owed(_ledger, account, marketId, position.size, position.openNotional);
    }

    /// @inheritdoc IClearingHouse
    function haircutSide(uint256 marketId, bool longSide) external view returns (HaircutSide memory) {
        return _ledger.haircutSides[marketId][longSide ? 0 : 1];
    }

    /// @inheritdoc IClearingHouse
    function bankruptcyPrice(address account, uint256 marketId) external view returns (int256) {
        return LiquidationLogic.bankruptcyPrice(_ledger, _oracle, account, marketId);
    }

    /// @inheritdoc IClearingHouse
    function claimsOf(address account) external view returns (ClaimSummary memory) {
        return AllocationLogic.claimsOf(_ledger, account);
    }

    /// @inheritdoc IClearingHouse
    function claimsTotals(uint256 pool) external view returns (uint256, uint256, uint256) {
        ClaimsPool memory p = _ledger.claimsPools[pool];
        return (p.issued, p.inflow, p.events);
    }

    // ================================================================ internal: misc

    /// @dev Pulls exactly `amount` from `from`; a token that delivers anything else is refused.
    function _pullExact(address from, uint256 amount) private {
        uint256 balanceBefore = _token.balanceOf(address(this));
        _token.safeTransferFrom(from, address(this), amount);
        uint256 received = _token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert TransferAmountMismatch(amount, received);
    }

    function _setInsuranceFeeShare(uint256 share) private {
        if (share > FixedPointMath.WAD) revert InsuranceFeeShareOutOfBounds(share);
        _ledger.insuranceFeeShare = share;
        emit InsuranceFeeShareUpdated(share);
    }

    function _setDeleverageTimeout(uint256 timeout) private {
        if (timeout < MIN_DELEVERAGE_TIMEOUT || timeout > MAX_DELEVERAGE_TIMEOUT) {
            revert DeleverageTimeoutOutOfBounds(timeout, MIN_DELEVERAGE_TIMEOUT, MAX_DELEVERAGE_TIMEOUT);
        }
        _ledger.deleverageTimeout = uint64(timeout);
        emit DeleverageTimeoutUpdated(timeout);
    }
}
