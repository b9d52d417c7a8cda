// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {ClearingHouse} from "../../../contracts/ClearingHouse.sol";
import {
    IClearingHouse,
    AccountHealth,
    AdlRank,
    ClaimSummary,
    DeleverageCase,
    LossKind,
    LossPolicy,
    MarketParams,
    MarketState,
    Order,
    PositionView
} from "../../../contracts/interfaces/IClearingHouse.sol";
import {IClearingHouseErrors} from "../../../contracts/interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../../../contracts/interfaces/IClearingHouseEvents.sol";
import {IDefaultLayers} from "../../../contracts/interfaces/IDefaultLayers.sol";
import {IInsuranceFund} from "../../../contracts/interfaces/IInsuranceFund.sol";
import {AggregatorV3Interface} from "../../../contracts/interfaces/external/AggregatorV3Interface.sol";
import {DefaultLayers} from "../../../contracts/insurance/DefaultLayers.sol";
import {InsuranceFund} from "../../../contracts/insurance/InsuranceFund.sol";
import {EntryBookLib} from "../../../contracts/libraries/EntryBookLib.sol";
import {ChainlinkOracleAdapter} from "../../../contracts/oracle/ChainlinkOracleAdapter.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {MockAggregatorV3} from "../../../contracts/mocks/MockAggregatorV3.sol";
import {CheatCodes, TestBase, Bound} from "../utils/Vm.sol";

/// @notice The log-recording cheatcodes (Foundry's interface, implemented by EDR), which utils/Vm.sol does not declare.
interface WaterfallVm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
}

/// @notice The rounding rules of DESIGN.md and the contracts' NatSpec, written out independently so that the tests can
/// predict every collateral change of a waterfall call to the wei.
library WaterfallMath {
    uint256 internal constant WAD = 1e18;

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    /// @dev Notional at which `q` of a position changes hands at `price`, rounded in favour of the account that
    /// closes it: a long sells at ⌈q × price⌉, a short buys back at ⌊q × price⌋.
    function closeNotional(bool closingLong, uint256 q, uint256 price) internal pure returns (uint256) {
        return Math.mulDiv(q, price, WAD, closingLong ? Math.Rounding.Ceil : Math.Rounding.Floor);
    }

    /// @dev The ADL base notional: |⌊size × price⌋ − ⌊(size ∓ q) × price⌋|, which leaves the bankrupt position's
    /// mark-to-market value unchanged (floors toward −∞, as the contract values positions).
    function adlNotional(int256 size, uint256 q, uint256 price) internal pure returns (uint256) {
        int256 rest = size > 0 ? size - int256(q) : size + int256(q);
        int256 difference = floorMul(size, price) - floorMul(rest, price);
        return difference >= 0 ? uint256(difference) : uint256(-difference);
    }

    /// @dev ⌊x × price / 1e18⌋ toward −∞.
    function floorMul(int256 x, uint256 price) internal pure returns (int256) {
        if (x >= 0) return int256(Math.mulDiv(uint256(x), price, WAD));
        return -int256(Math.mulDiv(uint256(-x), price, WAD, Math.Rounding.Ceil));
    }

    /// @dev ⌈|size| × indexDelta / 1e18⌉: what a position owes for a rise of its side's social-loss index.
    function socialCharge(int256 size, uint256 indexDelta) internal pure returns (uint256) {
        return Math.mulDiv(abs(size), indexDelta, WAD, Math.Rounding.Ceil);
    }
}

/// @notice Event topics of the waterfall, and decoding of the recorded logs.
library WaterfallEvents {
    bytes32 internal constant LIQUIDATED = IClearingHouseEvents.Liquidated.selector;
    bytes32 internal constant LOSS_SOCIALIZED = IClearingHouseEvents.LossSocialized.selector;
    bytes32 internal constant SOCIAL_LOSS_SETTLED = IClearingHouseEvents.SocialLossSettled.selector;
    bytes32 internal constant POSITION_CHANGED = IClearingHouseEvents.PositionChanged.selector;
    bytes32 internal constant BAD_DEBT_RESOLVED = IClearingHouseEvents.BadDebtResolved.selector;
    bytes32 internal constant DELEVERAGED = IClearingHouseEvents.Deleveraged.selector;
    bytes32 internal constant FUND_DRAWN = IInsuranceFund.Drawn.selector;
    bytes32 internal constant LOSS_EVENT_RECORDED = IClearingHouseEvents.LossEventRecorded.selector;
    bytes32 internal constant CLAIM_RECORDED = IClearingHouseEvents.ClaimRecorded.selector;
    bytes32 internal constant CLAIM_REPAID = IClearingHouseEvents.ClaimRepaid.selector;
    bytes32 internal constant CLAIMS_FUNDED = IClearingHouseEvents.ClaimsFunded.selector;

    /// @notice One BadDebtResolved receipt.
    struct Receipt {
        address account;
        uint256 marketId;
        uint256 shortfall;
        uint256 fundPaid;
        uint256 deleveraged;
        uint256 socialized;
        uint256 perUnit;
    }

    /// @notice One Liquidated event.
    struct Liquidation {
        address account;
        address liquidator;
        uint256 marketId;
        int256 size;
        uint256 oraclePrice;
        uint256 reward;
        uint256 fee;
        bool bankrupt;
    }

    function count(WaterfallVm.Log[] memory logs, address emitter, bytes32 topic) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics.length > 0 && logs[i].topics[0] == topic) ++n;
        }
    }

    function receipts(WaterfallVm.Log[] memory logs, address emitter) internal pure returns (Receipt[] memory out) {
        out = new Receipt[](count(logs, emitter, BAD_DEBT_RESOLVED));
        uint256 n;
        for (uint256 i = 0; i < logs.length; ++i) {
            WaterfallVm.Log memory log = logs[i];
            if (log.emitter != emitter || log.topics.length == 0 || log.topics[0] != BAD_DEBT_RESOLVED) continue;
            Receipt memory r = out[n++];
            r.account = address(uint160(uint256(log.topics[1])));
            r.marketId = uint256(log.topics[2]);
            (r.shortfall, r.fundPaid, r.deleveraged, r.socialized, r.perUnit) = abi.decode(
                log.data,
                (uint256, uint256, uint256, uint256, uint256)
            );
        }
    }

    function liquidations(
        WaterfallVm.Log[] memory logs,
        address emitter
    ) internal pure returns (Liquidation[] memory out) {
        out = new Liquidation[](count(logs, emitter, LIQUIDATED));
        uint256 n;
        for (uint256 i = 0; i < logs.length; ++i) {
            WaterfallVm.Log memory log = logs[i];
            if (log.emitter != emitter || log.topics.length == 0 || log.topics[0] != LIQUIDATED) continue;
            Liquidation memory l = out[n++];
            l.account = address(uint160(uint256(log.topics[1])));
            l.liquidator = address(uint160(uint256(log.topics[2])));
            l.marketId = uint256(log.topics[3]);
            (l.size, l.oraclePrice, l.reward, l.fee, l.bankrupt) = abi.decode(
                log.data,
                (int256, uint256, uint256, uint256, bool)
            );
        }
    }

    /// @dev Σ `loss` of the Deleveraged events.
    function deleveragedLoss(WaterfallVm.Log[] memory logs, address emitter) internal pure returns (uint256 total) {
        for (uint256 i = 0; i < logs.length; ++i) {
            WaterfallVm.Log memory log = logs[i];
            if (log.emitter != emitter || log.topics.length == 0 || log.topics[0] != DELEVERAGED) continue;
            (, , uint256 loss, ) = abi.decode(log.data, (uint256, uint256, uint256, uint256));
            total += loss;
        }
    }
}

/// @notice Deploys the system of devnet/hardhat/fixture.ts in Solidity (6-decimal token, adapter, two 8-decimal feeds,
/// the clearing house with a 30% insurance fee share, an insurance fund, ETH-USD with the ADL policy as market 0 and
/// BTC-USD socialized as market 1, the fixture's marketParams) and offers trading helpers to the waterfall tests.
abstract contract WaterfallSetup is TestBase {
    WaterfallVm internal constant wvm = WaterfallVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant SCALE = 1e12;
    uint256 internal constant ETH = 0;
    uint256 internal constant BTC = 1;

    IClearingHouse internal clearingHouse;
    InsuranceFund internal fund;
    MockERC20 internal token;
    ChainlinkOracleAdapter internal adapter;
    MockAggregatorV3 internal ethFeed;
    MockAggregatorV3 internal btcFeed;
    uint256 internal _orderNonce;

    /// @dev Deploys everything; the fund has no floor, a one-day draw window, and the given cooldown and cap (token
    /// units). This contract holds every role.
    function _deploySystem(uint256 cooldown, uint256 drawCap) internal {
        token = new MockERC20("Mock USD", "mUSD", 6);
        adapter = new ChainlinkOracleAdapter();
        ethFeed = new MockAggregatorV3(8, "ETH / USD", 2_000e8);
        btcFeed = new MockAggregatorV3(8, "BTC / USD", 60_000e8);
        clearingHouse = _newClearingHouse();
        fund = new InsuranceFund(token, address(clearingHouse), address(this), cooldown, 0, drawCap, 1 days);
        clearingHouse.setInsuranceFund(address(fund));
        clearingHouse.listMarket(_marketParams(ethFeed, LossPolicy.AutoDeleverage));
        clearingHouse.listMarket(_marketParams(btcFeed, LossPolicy.Socialized));
    }

    /// @dev The clearing house under test with a 30% insurance fee share (LiquidationLogic is linked automatically);
    /// this contract is admin and risk manager.
    function _newClearingHouse() internal virtual returns (IClearingHouse) {
        ClearingHouse deployed = new ClearingHouse(token, adapter, address(this), 0.3e18);
        deployed.grantRole(deployed.RISK_MANAGER_ROLE(), address(this));
        return deployed;
    }

    /// @dev marketParams() of devnet/hardhat/fixture.ts: 10x initial, 20x maintenance leverage, 1% discount, 1% fee,
    /// 2/5 bp maker/taker fees, 5% band, 1% a day funding clamp, 1,000,000 units open-interest cap, 1 hour heartbeat.
    function _marketParams(MockAggregatorV3 feed, LossPolicy policy) internal pure returns (MarketParams memory) {
        return
            MarketParams({
                oracleFeed: AggregatorV3Interface(address(feed)),
                oracleHeartbeat: 3600,
                lossPolicy: policy,
                initialMarginRatio: 0.1e18,
                maintenanceMarginRatio: 0.05e18,
                liquidationDiscount: 0.01e18,
                liquidationFeeRatio: 0.01e18,
                makerFeeRatio: 0.0002e18,
                takerFeeRatio: 0.0005e18,
                priceBand: 0.05e18,
                maxFundingRate: 0.01e18,
                maxOpenInterest: 1_000_000e18,
                liquidationBuffer: 0
            });
    }

    /// @dev The account of `key`, given `amount` tokens deposited into the clearing house (none when 0).
    function _trader(uint256 key, uint256 amount) internal returns (address account) {
        account = vm.addr(key);
        if (amount == 0) return account;
        token.mint(account, amount);
        vm.startPrank(account);
        token.approve(address(clearingHouse), type(uint256).max);
        clearingHouse.deposit(amount);
        vm.stopPrank();
    }

    /// @dev A staker of the insurance fund with `amount` tokens staked.
    function _stake(address staker, uint256 amount) internal {
        if (amount == 0) return;
        token.mint(staker, amount);
        vm.startPrank(staker);
        token.approve(address(fund), type(uint256).max);
        fund.deposit(amount, staker);
        vm.stopPrank();
    }

    /// @dev The maker (`makerKey`) signs an order for `size` at `price`; `taker` fills all of it.
    function _fill(
        uint256 makerKey,
        address taker,
        uint256 marketId,
        bool makerBuys,
        uint256 size,
        uint256 price
    ) internal {
        Order memory order = Order({
            maker: vm.addr(makerKey),
            marketId: marketId,
            isBuy: makerBuys,
            size: size,
            limitPrice: price,
            expiry: block.timestamp + 1 hours,
            nonce: _orderNonce++,
            reduceOnly: false
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(makerKey, clearingHouse.hashOrder(order));
        vm.prank(taker);
        clearingHouse.fillOrder(order, abi.encodePacked(r, s, v), size);
    }

    function _feed(uint256 marketId) internal view returns (MockAggregatorV3) {
        return marketId == ETH ? ethFeed : btcFeed;
    }

    /// @dev Publishes an 8-decimal answer (the 18-decimal price is answer × 1e10).
    function _setAnswer(uint256 marketId, uint256 answer) internal {
        _feed(marketId).setAnswer(int256(answer));
    }

    function _price(uint256 marketId) internal view returns (uint256) {
        (, int256 answer, , , ) = _feed(marketId).latestRoundData();
        return uint256(answer) * 1e10;
    }

    function _equity(address account) internal view returns (int256) {
        return clearingHouse.accountHealth(account).equity;
    }

    function _size(address account, uint256 marketId) internal view returns (int256) {
        return clearingHouse.positionOf(account, marketId).size;
    }
}

/// @notice Drives the loss waterfall for the invariant fuzzer: six traders who trade at 6.3x to 9x, two keepers with
/// large collateral who liquidate, deleverage and socialize, two insurance-fund stakers, and an oracle that moves by
/// small steps and by gaps that bankrupt accounts.
/// Every waterfall call is replicated from the state before it. Each party's cash value, collateral − openNotional,
/// must move by the notional of the hand-over at the oracle price (⌈q × price⌉ when a long closes, ⌊q × price⌋ when a
/// short does, as LiquidationLogic documents) less the funding and social loss settled first; what it moved beyond
/// that is what the call gave or took: the bankrupt account's credit (its shortfall covered), the keeper's reward or
/// the ADL counterparty's loss. The fund's token outflow and the change of the fees set aside for it give what the
/// fund paid; the LossSocialized events, checked against the index and the open interest, what was socialized. From
/// these the handler accumulates the ghosts of invariant (a), checks every BadDebtResolved receipt against the sums
/// observed for its account, keeps its own copy of every position's social-loss index (from PositionChanged,
/// SocialLossSettled and LossSocialized events) to check each charge, and flags failures by category with the first
/// message, for the invariants to report.
contract WaterfallHandler is CheatCodes {
    using Bound for uint256;

    WaterfallVm internal constant wvm = WaterfallVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 public constant TRADERS = 6;
    uint256 public constant ACCOUNTS = 8; // six traders, then two keepers
    uint256 public constant STAKERS = 2;
    uint256 public constant MARKETS = 2;
    uint256 internal constant SCALE = 1e12;
    uint256 internal constant TRADER_DEPOSIT = 20_000e6;
    uint256 internal constant KEEPER_DEPOSIT = 100_000_000e6;
    uint256 internal constant INITIAL_STAKE = 5_000e6;

    // Kinds of waterfall call.
    uint256 internal constant LIQUIDATE = 0;
    uint256 internal constant DELEVERAGE = 1;
    uint256 internal constant TIMEOUT = 2;
    /// autoDeleverage when the fund can pay the whole deficit: the caller takes the position over (issue 9, finding 7).
    uint256 internal constant TAKEOVER = 3;

    // Errors of the issue-9 rules, by selector so that this handler also compiles against the contracts before them
    // (the campaign is run against the old LiquidationLogic to show that it finds finding 1).
    bytes4 internal constant LARGEST_POSITION_GOES_LAST = bytes4(keccak256("LargestPositionGoesLast(address,uint256)"));
    bytes4 internal constant SIDE_FROZEN_BY_DELEVERAGE = bytes4(keccak256("SideFrozenByDeleverage(uint256,bool)"));
    bytes4 internal constant DELEVERAGE_OUT_OF_ORDER = bytes4(
        keccak256("DeleverageOutOfOrder(address,uint256,uint256)")
    );

    bytes4 internal constant ORACLE_STALE = bytes4(keccak256("OracleStale(address,uint256,uint256)"));
    bytes4 internal constant NOT_BANKRUPT = bytes4(keccak256("NotBankrupt(address,int256)"));
    bytes32 internal constant MEMBER_MARKED = IClearingHouseEvents.MemberMarked.selector;
    bytes32 internal constant ASSESSMENT_COLLECTED = IClearingHouseEvents.AssessmentCollected.selector;
    bytes32 internal constant LAYER_DRAWN = IDefaultLayers.LayerDrawn.selector;
    bytes32 internal constant MEMBER_ASSESSED = IDefaultLayers.MemberAssessed.selector;

    // Failure categories, one per invariant.
    uint256 public constant F_BALANCE = 0; // a call or receipt that does not add up
    uint256 public constant F_FUND = 1; // the fund's tokens against its Drawn events
    uint256 public constant F_ADL_PROFIT = 2;
    uint256 public constant F_SOCIAL_CHARGE = 3;
    uint256 public constant F_STUCK = 4; // Panic, SafeCast or empty revert in the waterfall
    uint256 public constant F_UNEXPECTED = 5; // any other revert the handler did not expect
    uint256 public constant F_PENALTY = 6; // a solvent liquidation that took more than equity
    /// A socialized charge spread over other than the side as it stood when the transaction began (the liquidator
    /// stepped out of it first: issue 9, finding 1).
    uint256 public constant F_CHARGED_SIDE = 7;
    /// A bankrupt liquidation that paid a reward (issue 9, finding 2).
    uint256 public constant F_BANKRUPT_REWARD = 8;
    /// An unstake that paid more than min(value at request, value at exitAt) (issue 9, finding 4).
    uint256 public constant F_EXIT = 9;
    /// An ADL step that took from a counterparty outside its side's first entry bucket (issue 10).
    uint256 public constant F_ADL_ORDER = 10;
    /// A claims move that paid or funded other than what the handler computed (issue 10, repayable claims).
    uint256 public constant F_CLAIMS = 11;
    /// A clearing member's act that broke the member-dodge rule, a member registry or assessment that disagrees with
    /// the layers, or a refusal of the member rules (reserve, second fund, leave) that was not exactly the one
    /// predicted or changed something (issue 11).
    uint256 public constant F_MEMBER = 12;
    /// A liquidateAccount that left other than the single liquidate calls it stands for, or reverted where they did
    /// not with a keeper as the caller (issue 15).
    uint256 public constant F_ACCOUNT = 13;
    uint256 public constant CATEGORIES = 14;

    /// @dev The state a waterfall call starts from.
    struct Party {
        address account;
        int256 collateral;
        int256 size;
        int256 openNotional;
        /// Funding and social loss owed before the call.
        int256 pending;
        /// Funding alone, in the market of the call.
        int256 funding;
        int256 unrealizedPnl;
    }

    struct Call {
        uint256 kind;
        uint256 marketId;
        uint256 price;
        int256 equity;
        Party subject;
        Party other;
        uint256 pot;
        uint256 fundBalance;
        /// Collateral of every handler account: a call touches only its two parties.
        int256[ACCOUNTS] collaterals;
        /// A trader, not a keeper, calls (and may lack the margin to take the position).
        bool traderCaller;
        /// The clearing house's token balance: the layers' payment, net of the assessments they collected from it.
        uint256 chBalance;
    }

    /// @dev What one call was observed to do.
    struct Effect {
        uint256 q;
        int256 credited;
        int256 otherDeviation;
        int256 fundOut;
        uint256 socialized;
        uint256 perUnit;
    }

    /// @dev Per account, sums since its last receipt.
    struct Pending {
        int256 credited;
        int256 fundPaid;
        int256 deleveraged;
        int256 socialized;
    }

    /// @dev What the logs of one action contained.
    struct ActionLogs {
        uint256[2] socialized; // per market
        uint256[2] perUnit; // per market
        WaterfallEvents.Receipt[] receipts;
        uint256 deleveragedLoss;
        /// Social loss settled per account in this action (SocialLossSettled), by market.
        WaterfallVm.Log[] raw;
        /// Assessments taken from each handler account's collateral (AssessmentCollected, token units), their sum,
        /// the layers' MemberAssessed `collected` sum, and Σ LayerDrawn (token units).
        uint256[ACCOUNTS] collected;
        uint256 assessed;
        uint256 assessedByLayers;
        uint256 layerDrawn;
    }

    IClearingHouse public immutable clearingHouse;
    /// The stakers' vault, drawn by `layers`.
    InsuranceFund public immutable fund;
    /// The clearing house's fund: first loss → the stakers' vault → members' fund → capped assessments.
    DefaultLayers public immutable layers;
    /// An isolated market's layers (nobody trades that market): the second fund an account may try to join.
    DefaultLayers public immutable otherLayers;
    MockERC20 public immutable token;
    MockAggregatorV3 internal immutable _feed0;
    MockAggregatorV3 internal immutable _feed1;
    int256 internal immutable _initialAnswer0;
    int256 internal immutable _initialAnswer1;

    uint256[ACCOUNTS] internal _keys;
    address[ACCOUNTS] internal _accounts;
    address[STAKERS] internal _stakers;
    uint256 internal _nonce;

    // ------------------------------------------------------------ ghosts: the loss waterfall (a)

    /// Σ over bad-debt calls of what the bankrupt account was credited beyond trading at the oracle price.
    int256 public ghostShortfall;
    /// Σ paid by the fund and its set-aside fees toward deficits (fund outflow + fee pot decrease − keeper rewards).
    int256 public ghostFundPaid;
    /// Σ given up by ADL counterparties against the oracle price, from their collateral.
    int256 public ghostDeleveraged;
    /// Σ socialized (LossSocialized amounts, each checked against the index and open interest).
    int256 public ghostSocialized;
    /// Σ of the receipts' fields.
    uint256 public receiptShortfall;
    uint256 public receiptParts;
    /// Tokens the layers delivered to the clearing house in waterfall calls (what its balance rose by plus the
    /// assessments they took out of it first), and Σ of their LayerDrawn events.
    uint256 public ghostFundOutflow;
    uint256 public ghostLayerDrawnEvents;
    /// Tokens that left the stakers' vault in waterfall calls, Σ of its Drawn events, and Σ LayerDrawn(Stakers).
    uint256 public ghostVaultOutflow;
    uint256 public ghostDrawnEvents;
    uint256 public ghostStakersLayerEvents;
    /// Tokens staked and unstaked in the vault; swept out of the clearing house (to the layers); passed on by the
    /// layers to the vault as income.
    uint256 public ghostStaked;
    uint256 public ghostUnstaked;
    uint256 public ghostSwept;
    uint256 public ghostStakerIncome;

    // ------------------------------------------------------------ ghosts: clearing members (issue 11)

    /// Tokens collected from members' collateral (AssessmentCollected), contributed to and paid out of `layers`.
    uint256 public ghostAssessed;
    uint256 public ghostJoined;
    uint256 public ghostLeftPaid;
    /// The fund whose mark an account carries, as the MemberMarked events told it.
    mapping(address account => address) public markOf;
    /// Collected from a member since the start of its assessment period as the layers recorded it (periodStart).
    mapping(address member => uint256) public assessedInPeriod;
    mapping(address member => uint256) public assessedPeriodStart;
    /// A member's state before its act: its signed free collateral F and its reserve R (18 decimals).
    struct MemberSeen {
        address account;
        bool member;
        int256 free;
        uint256 reserve;
    }
    uint256 public memberJoins;
    uint256 public contributionRefusals;
    uint256 public otherFundRefusals;
    uint256 public noticesGiven;
    uint256 public leaves;
    uint256 public leaveRefusals;
    uint256 public coolingOffRefusals;
    uint256 public memberFills;
    uint256 public memberActs;
    uint256 public reserveRefusals;
    uint256 public withdrawReserveRefusals;
    uint256 public memberHandOvers;
    /// Liquidations sent as the one item of a `batch`.
    uint256 public batchedCalls;
    /// @dev True while the `liquidate` move sends its call through `batch`.
    bool private _viaBatch;
    uint256 public exitsAroundLoss;
    uint256 public assessments;
    uint256 public memberRoundTrips;
    /// Fill refusals of the member rule whose revert data were predicted byte for byte by a probe.
    uint256 public exactReserveRefusals;
    /// The probe's answer: the members' free collateral after the fill made without the rule.
    error Probed(int256 makerFree, int256 takerFree);
    /// DefaultLayers.LEAVE_WINDOW.
    uint256 internal constant LEAVE_WINDOW = 1 days;

    mapping(address account => Pending) internal _pending;
    /// Open interest [market][1 long, 0 short] when the current waterfall call began.
    uint256[2][2] internal _openInterestBefore;
    /// Tokens deposited into and withdrawn from the clearing house by the handler's accounts.
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    /// Adversarial moves that went through.
    uint256 public dustTrades;
    uint256 public roundTrips;
    uint256 public counterpartyLiquidations;
    uint256 public refillsDuringCase;
    /// liquidateAccount moves: equal to their single calls, of which with more than one market and by a trader or
    /// member; refused (NotBankrupt on a solvent account, a caller short of margin or reserve); dropped because only
    /// the single calls' per-call margin checks refused.
    uint256 public accountLiquidations;
    uint256 public accountLiquidationsMultiMarket;
    uint256 public accountLiquidationsByTrader;
    uint256 public accountLiquidationRefusals;
    uint256 public accountLiquidationsUnreplayable;
    /// Every successful call's clearing-house logs, chained (liquidateAccount's against its single calls').
    bytes32 internal _logChain;

    // ------------------------------------------------------------ ghosts: the social-loss index (d)

    mapping(address account => mapping(uint256 marketId => int256)) internal _ghostSize;
    mapping(address account => mapping(uint256 marketId => uint256)) internal _ghostLastIndex;
    /// [market][1 for the long side, 0 for the short side]
    uint256[2][2] internal _ghostIndex;

    // ------------------------------------------------------------ outcome counters

    uint256 public calls;
    uint256 public fills;
    uint256 public marginSkips;
    uint256 public priceGaps;
    uint256 public liquidationsSolvent;
    uint256 public liquidationsBankrupt;
    uint256 public casesOpened;
    uint256 public deleverageSteps;
    uint256 public timeoutResolutions;
    uint256 public receipts;
    uint256 public socializedReceipts;
    uint256 public deleveragedReceipts;
    uint256 public unstakes;
    /// Unstakes whose bound was below the value at request (a loss reached the escrow before exitAt).
    uint256 public unstakesBelowRequest;
    uint256 public unstakesWaitingForBadDebt;
    uint256 public sweeps;
    uint256 public withdrawals;
    /// Waterfall reverts by selector (expected: DeleverageExceedsProfit and NotBankrupt from autoDeleverage,
    /// NoPositionsToCharge when the keeper held the whole side a loss would be socialized over).
    mapping(bytes4 selector => uint256) public revertsBySelector;
    /// A staker's confirmed exit as the handler saw it. `claim`: the escrow's value right after the confirmation,
    /// scaled by every fall of a share's value the handler saw from then up to and including the second of exitAt
    /// (rounded up). `atExit`: the lowest value seen at exactly exitAt. The fund's rule is min(value at request,
    /// claim); the claim is at most the value at exitAt, since only losses lower a share's value.
    struct ExitSeen {
        uint256 claim;
        uint256 atExit;
        bool confirmed;
        bool exitSeen;
    }
    mapping(address staker => ExitSeen) internal _exitSeen;
    /// A share's value when the handler last looked, as (totalAssets + 1, totalSupply + 10^6): OpenZeppelin's
    /// virtual offsets. The clock moves only through _warp, which looks first, so every fall seen at a look
    /// happened at the current second.
    uint256 internal _lookedAssets;
    uint256 internal _lookedSupply;
    uint256 public unstakeCancels;
    uint256 public confirmsBeforeLoss;
    /// Value at request of the request being unstaked (kept here to stay within the stack).
    uint256 internal _assetsAtRequest;
    /// Whether the counterparty of the ADL call being made is in its side's first entry bucket.
    bool internal _inOrder;
    uint256 public outOfTurnRefusals;

    // ------------------------------------------------------------ ghosts: repayable claims (issue 10)

    /// One claim record as its events told it: ClaimRecorded (paid) and every ClaimRepaid since.
    struct ClaimSeen {
        uint256 paid;
        uint256 repaid;
        /// The loss event of an ADL record (the LossEventRecorded just before it); type(uint256).max otherwise.
        uint256 eventId;
    }

    /// Per loss event, in order: what the rule took (T_k), and Σ T_j over the earlier ones (S_k), summed here.
    uint256[] internal _eventTotal;
    uint256[] internal _eventStart;
    /// Σ T_k (LossEventRecorded), Σ inflows the handler brought (repayClaims amounts, a sweep's claims part computed
    /// from the pot before it), Σ ClaimRepaid.
    uint256 public ghostClaimsIssued;
    uint256 public ghostClaimsInflow;
    uint256 public ghostClaimsRepaid;
    /// Tokens (token units) brought to the claims' pot by repayClaims.
    uint256 public ghostClaimsTokens;
    mapping(address account => ClaimSeen[]) internal _claims;
    /// The last LossEventRecorded seen while reading logs, and whether it was an ADL step's.
    uint256 internal _lastEventId;
    bool internal _lastEventAdl;
    uint256 internal _funderNonce;
    uint256 public claimRepayments;
    uint256 public claimRepaymentsPaying;
    uint256 public claimsFundings;
    uint256 public claimsRefusals;

    uint256[CATEGORIES] public failures;
    string[CATEGORIES] internal _firstFailure;

    /// @param fund_ The stakers' vault. @param layers_ The clearing house's fund, drawing `fund_`. @param otherLayers_
    /// An isolated market's layers.
    constructor(
        IClearingHouse clearingHouse_,
        InsuranceFund fund_,
        DefaultLayers layers_,
        DefaultLayers otherLayers_,
        MockAggregatorV3 feed0,
        MockAggregatorV3 feed1
    ) {
        clearingHouse = clearingHouse_;
        fund = fund_;
        layers = layers_;
        otherLayers = otherLayers_;
        token = MockERC20(clearingHouse_.collateralToken());
        _feed0 = feed0;
        _feed1 = feed1;
        (, _initialAnswer0, , , ) = feed0.latestRoundData();
        (, _initialAnswer1, , , ) = feed1.latestRoundData();
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            uint256 key = 0xFA11 + i;
            address a = vm.addr(key);
            _keys[i] = key;
            _accounts[i] = a;
            uint256 amount = i < TRADERS ? TRADER_DEPOSIT : KEEPER_DEPOSIT;
            token.mint(a, amount + 1_000_000e6);
            vm.startPrank(a);
            token.approve(address(clearingHouse_), type(uint256).max);
            token.approve(address(layers_), type(uint256).max);
            token.approve(address(otherLayers_), type(uint256).max);
            clearingHouse_.deposit(amount);
            vm.stopPrank();
            ghostDeposited += amount;
        }
        for (uint256 i = 0; i < STAKERS; ++i) {
            address staker = vm.addr(0x57A4E + i);
            _stakers[i] = staker;
            token.mint(staker, 1_000_000e6);
            vm.prank(staker);
            token.approve(address(fund_), type(uint256).max);
            _stakeFor(staker, INITIAL_STAKE);
        }
        _noteLosses();
    }

    // ------------------------------------------------------------ views for the test

    function account(uint256 i) external view returns (address) {
        return _accounts[i];
    }

    function firstFailure(uint256 category) external view returns (string memory) {
        return _firstFailure[category];
    }

    function oraclePrice(uint256 marketId) public view returns (uint256) {
        (, int256 answer, , , ) = _feed(marketId).latestRoundData();
        return uint256(answer) * 1e10;
    }

    // ------------------------------------------------------------ actions: trading and the oracle

    /// Deposits 1,000 to 20,000 USD into a trader's account (bankrupt ones included).
    function deposit(uint256 accountSeed, uint256 amountSeed) public {
        ++calls;
        address a = _accounts[accountSeed % TRADERS];
        uint256 amount = amountSeed.bound(1_000e6, 20_000e6);
        vm.prank(a);
        clearingHouse.deposit(amount);
        ghostDeposited += amount;
    }

    /// A trader signs an order at up to 2% off the oracle and another fills it, both with at least 100 USD free; the
    /// size is 6.3x to 9x the smaller free collateral. Margin refusals are expected; any other revert is not.
    function trade(
        uint256 makerSeed,
        uint256 takerSeed,
        uint256 marketSeed,
        bool makerBuys,
        uint256 sizeSeed,
        uint256 priceSeed
    ) public {
        ++calls;
        (bool found, uint256 maker, uint256 taker) = _tradingPair(makerSeed, takerSeed);
        if (!found) return;
        Order memory order = _order(maker, taker, marketSeed % MARKETS, makerBuys, sizeSeed, priceSeed);
        _submit(order, maker, taker);
    }

    /// Moves one price by −5%…+5%, within [¼, 4×] of its initial value.
    function movePrice(uint256 marketSeed, uint256 moveSeed) public {
        ++calls;
        _movePrice(marketSeed % MARKETS, int256(moveSeed % 1001) - 500);
    }

    /// Gaps one price by ±10…40%, which bankrupts accounts levered above ~7x.
    function gapPrice(uint256 marketSeed, uint256 moveSeed) public {
        ++calls;
        int256 bp = 1000 + int256((moveSeed >> 1) % 3001);
        _movePrice(marketSeed % MARKETS, moveSeed & 1 == 0 ? bp : -bp);
        ++priceGaps;
    }

    /// Advances time by 1 second to 6 hours (funding accrues) and republishes both prices so that they stay fresh.
    function warp(uint256 secondsSeed) public {
        ++calls;
        _warp(secondsSeed.bound(1, 6 hours));
    }

    /// Withdraws up to a trader's free collateral; waits for deleverage cases on its side are expected, and so is
    /// a clearing member's refusal below its reserve (checked exactly in _withdraw).
    function withdraw(uint256 accountSeed, uint256 amountSeed) public {
        ++calls;
        address a = _accounts[accountSeed % TRADERS];
        uint256 maxUnits = clearingHouse.accountHealth(a).freeCollateral / SCALE;
        if (maxUnits == 0) return;
        _withdraw(a, amountSeed.bound(1, maxUnits));
    }

    /// @dev Withdraws `amount` (at most the free collateral) for `a`. For a member with free collateral f and reserve
    /// R: refused with exactly AssessmentReserveRequired(a, f − amount, R) when f − amount < R, else it goes through
    /// and leaves F ≥ R.
    function _withdraw(address a, uint256 amount) internal {
        MemberSeen memory seen = _memberBefore(a);
        uint256 left = clearingHouse.accountHealth(a).freeCollateral - amount * SCALE;
        bool locked = _lockedByCase(a);
        _beginLogs();
        vm.prank(a);
        (bool ok, bytes memory reason) = address(clearingHouse).call(abi.encodeCall(IClearingHouse.withdraw, (amount)));
        _endLogs(ok);
        bool short = seen.member && left < seen.reserve;
        if (ok) {
            ++withdrawals;
            ghostWithdrawn += amount;
            if (short || locked) _fail(F_MEMBER, "a withdrawal below the reserve or under a lock went through");
            _memberAfter(seen, "withdrawal");
            if (seen.member && _signedFree(a) < int256(_reserveOf(a))) {
                _fail(F_MEMBER, "a member's withdrawal left less free collateral than its reserve");
            }
        } else if (bytes4(reason) == IClearingHouseErrors.WithdrawalLockedByDeleverage.selector && locked) {
            return;
        } else if (
            short &&
            keccak256(reason) ==
                keccak256(
                    abi.encodeWithSelector(
                        IClearingHouseErrors.AssessmentReserveRequired.selector,
                        a,
                        left,
                        seen.reserve
                    )
                )
        ) {
            ++withdrawReserveRefusals;
        } else {
            _fail(short ? F_MEMBER : F_UNEXPECTED, string.concat("withdraw reverted: ", _hex(reason)));
        }
    }

    /// @dev Whether `a` holds a position on the counterparties' side of an open deleverage case (withdraw refuses).
    function _lockedByCase(address a) internal view returns (bool) {
        for (uint256 m = 0; m < MARKETS; ++m) {
            int256 size = clearingHouse.positionOf(a, m).size;
            if (size == 0) continue;
            MarketState memory state = clearingHouse.marketState(m);
            if (size > 0 ? state.longDeleverageCases != 0 : state.shortDeleverageCases != 0) return true;
        }
        return false;
    }

    // ------------------------------------------------------------ actions: the loss waterfall

    /// A keeper liquidates the first liquidatable account from a seeded start (skipping bankrupt accounts whose case
    /// is open, which belong to autoDeleverage), in one of its markets, for all or part of the position.
    function liquidate(uint256 accountSeed, uint256 keeperSeed, uint256 marketSeed, uint256 sizeSeed) public {
        ++calls;
        address keeper = _accounts[TRADERS + (keeperSeed % 2)];
        (bool found, address a) = _findLiquidatable(accountSeed, keeper);
        if (!found) return;
        uint256[] memory markets = clearingHouse.openMarketsOf(a);
        uint256 marketId = markets[marketSeed % markets.length];
        uint256 positionAbs = WaterfallMath.abs(clearingHouse.positionOf(a, marketId).size);
        uint256 size = sizeSeed % 2 == 0 ? type(uint256).max : (sizeSeed >> 1).bound(1, positionAbs);
        // Half the liquidations go as the one item of a keeper's batch (issue 15): the same checks must hold.
        _viaBatch = (keeperSeed >> 1) % 2 == 1;
        _waterfallCall(
            _snapshot(LIQUIDATE, a, keeper, marketId),
            keeper,
            abi.encodeCall(IClearingHouse.liquidate, (a, marketId, size))
        );
        _viaBatch = false;
    }

    /// A keeper deleverages an open case against the counterparty with the highest ADL score among the handler's
    /// accounts, for all or part of the bankrupt position.
    function autoDeleverage(uint256 accountSeed, uint256 keeperSeed, uint256 sizeSeed) public {
        ++calls;
        (bool found, address a) = _findOpenCase(accountSeed);
        if (!found) return;
        DeleverageCase memory c = clearingHouse.deleverageCaseOf(a);
        address counterparty = _bestCounterparty(a, c.marketId, c.longCounterparties);
        if (counterparty == address(0)) return;
        _deleverageWith(a, c, counterparty, keeperSeed, sizeSeed);
    }

    /// Adversarial: a keeper deleverages against any profitable counterparty it likes, not the best ranked (it
    /// spares its own). The contract must refuse one outside the side's first entry bucket and change nothing.
    function autoDeleverageOutOfTurn(uint256 accountSeed, uint256 keeperSeed, uint256 pickSeed) public {
        ++calls;
        (bool found, address a) = _findOpenCase(accountSeed);
        if (!found) return;
        DeleverageCase memory c = clearingHouse.deleverageCaseOf(a);
        address counterparty;
        for (uint256 k = 0; k < ACCOUNTS && counterparty == address(0); ++k) {
            address x = _accounts[(pickSeed + k) % ACCOUNTS];
            int256 size = clearingHouse.positionOf(x, c.marketId).size;
            if (x == a || size == 0 || (size > 0) != c.longCounterparties) continue;
            if (clearingHouse.adlRank(x, c.marketId).unrealizedPnl > 0) counterparty = x;
        }
        if (counterparty == address(0)) return;
        int256 sizeBefore = clearingHouse.positionOf(counterparty, c.marketId).size;
        _deleverageWith(a, c, counterparty, keeperSeed, type(uint256).max);
        if (!_inOrder && clearingHouse.positionOf(counterparty, c.marketId).size != sizeBefore) {
            _fail(F_ADL_ORDER, "ADL took from a counterparty outside its side's first entry bucket");
        }
    }

    function _deleverageWith(
        address a,
        DeleverageCase memory c,
        address counterparty,
        uint256 keeperSeed,
        uint256 sizeSeed
    ) internal {
        _inOrder = _entryBucket(counterparty, c.marketId) == _firstBucket(c.marketId, c.longCounterparties);
        uint256 positionAbs = WaterfallMath.abs(clearingHouse.positionOf(a, c.marketId).size);
        uint256 size = sizeSeed % 3 == 0 ? (sizeSeed / 3).bound(1, positionAbs) : type(uint256).max;
        address keeper = _accounts[TRADERS + (keeperSeed % 2)];
        // When the fund (refilled since the case opened) can pay the whole deficit, the caller takes the position.
        int256 equity = clearingHouse.accountHealth(a).equity;
        uint256 available = clearingHouse.insuranceFees() + layers.availableForDraw() * SCALE;
        bool takeover = equity < 0 && available >= uint256(-equity);
        _waterfallCall(
            takeover ? _snapshot(TAKEOVER, a, keeper, c.marketId) : _snapshot(DELEVERAGE, a, counterparty, c.marketId),
            keeper,
            abi.encodeCall(IClearingHouse.autoDeleverage, (a, c.marketId, counterparty, size))
        );
    }

    /// Warps past the deleverage timeout of an open case (republishing prices) and a keeper socializes the rest.
    function socializeAfterTimeout(uint256 accountSeed, uint256 keeperSeed, uint256 extraSeed) public {
        ++calls;
        (bool found, address a) = _findOpenCase(accountSeed);
        if (!found) return;
        DeleverageCase memory c = clearingHouse.deleverageCaseOf(a);
        uint256 readyAt = uint256(c.startedAt) + clearingHouse.deleverageTimeout();
        if (block.timestamp < readyAt) _warp(readyAt - block.timestamp + (extraSeed % 1 hours));
        address keeper = _accounts[TRADERS + (keeperSeed % 2)];
        _waterfallCall(
            _snapshot(TIMEOUT, a, keeper, c.marketId),
            keeper,
            abi.encodeCall(IClearingHouse.socializeAfterTimeout, (a))
        );
    }

    // ------------------------------------------------------------ adversarial moves (issue 9)

    /// A dust position: 1 to 1,000 wei traded at the oracle between two traders, so that a side can be near-empty.
    function dustTrade(
        uint256 makerSeed,
        uint256 takerSeed,
        uint256 marketSeed,
        bool makerBuys,
        uint256 sizeSeed
    ) public {
        ++calls;
        (bool found, uint256 maker, uint256 taker) = _tradingPair(makerSeed, takerSeed);
        if (!found) return;
        uint256 marketId = marketSeed % MARKETS;
        Order memory order = _order(maker, taker, marketId, makerBuys, 0, 0);
        order.size = sizeSeed.bound(1, 1_000);
        if (_submit(order, maker, taker)) ++dustTrades;
    }

    /// A trade and its exact reverse in the same block (a same-block round trip).
    function roundTrip(
        uint256 makerSeed,
        uint256 takerSeed,
        uint256 marketSeed,
        bool makerBuys,
        uint256 sizeSeed
    ) public {
        ++calls;
        (bool found, uint256 maker, uint256 taker) = _tradingPair(makerSeed, takerSeed);
        if (!found) return;
        Order memory order = _order(maker, taker, marketSeed % MARKETS, makerBuys, sizeSeed, 0);
        if (!_submit(order, maker, taker)) return;
        Order memory back = _order(maker, taker, order.marketId, !makerBuys, 0, 0);
        back.size = order.size;
        if (_submit(back, maker, taker)) ++roundTrips;
    }

    /// A liquidatable account is liquidated by the trader holding the largest position on the other side of the
    /// market: the attacker who owns both sides takes its own bankrupt position over with its opposite position.
    function liquidateByCounterparty(uint256 accountSeed, uint256 marketSeed) public {
        ++calls;
        (bool found, address a) = _findLiquidatable(accountSeed, address(0));
        if (!found) return;
        uint256[] memory markets = clearingHouse.openMarketsOf(a);
        uint256 marketId = markets[marketSeed % markets.length];
        bool longSide = clearingHouse.positionOf(a, marketId).size < 0;
        address liquidator;
        uint256 largest;
        for (uint256 i = 0; i < TRADERS; ++i) {
            address t = _accounts[i];
            int256 size = clearingHouse.positionOf(t, marketId).size;
            if (t == a || size == 0 || (size > 0) != longSide) continue;
            if (WaterfallMath.abs(size) > largest) (liquidator, largest) = (t, WaterfallMath.abs(size));
        }
        if (liquidator == address(0)) return;
        Call memory c = _snapshot(LIQUIDATE, a, liquidator, marketId);
        c.traderCaller = true;
        uint256 before = liquidationsBankrupt + liquidationsSolvent;
        _waterfallCall(c, liquidator, abi.encodeCall(IClearingHouse.liquidate, (a, marketId, type(uint256).max)));
        if (liquidationsBankrupt + liquidationsSolvent != before) ++counterpartyLiquidations;
    }

    // ------------------------------------------------------------ liquidateAccount (issue 15)

    /// A bankrupt account's liquidateAccount by a keeper (kind 0), by the trader holding most opposite its largest
    /// position (kind 1: an attacker whose second account takes its own bankrupt account over), or by a member (kind
    /// 2, who must keep its reserve). Accounts may hold dust positions (dustTrade). The call is made from the state
    /// before it and its outcome digested (every account's collateral, health, positions, claims and case, every
    /// market's state, the fee pots, the claims totals, the token balances and the fund) together with its
    /// clearing-house logs; the state is then put back and the single liquidate calls it stands for (the others
    /// first, the largest by notional last, the first of equals) are made through the observed waterfall path in the
    /// same block. They must end in the same digest and logs, so that every ghost and invariant covers the state
    /// liquidateAccount leaves. Where a trader or member caller's margin lets the one call (checked once, at the end)
    /// through but not the singles (checked after each), nothing is done and the move is counted.
    function liquidateAccount(uint256 accountSeed, uint256 kindSeed, uint256 keeperSeed) public {
        ++calls;
        (bool found, address a) = _findBankrupt(accountSeed);
        if (!found) {
            _liquidateSolventAccount(accountSeed, keeperSeed);
            return;
        }
        uint256[] memory order = _singleCallOrder(a);
        uint256 kind = kindSeed % 3;
        address liquidator = _accountLiquidator(a, order[order.length - 1], kind, keeperSeed);
        if (liquidator == address(0)) return;

        uint256 start = wvm.snapshotState();
        bytes32 chainBefore = _logChain;
        _beginLogs();
        vm.prank(liquidator);
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.liquidateAccount, (a))
        );
        bytes32 logs = _chainLogs(chainBefore, wvm.getRecordedLogs());
        bytes32 digest = _accountDigest();
        if (!ok) {
            _accountRefused(reason, kind);
            return;
        }
        wvm.revertToState(start);

        for (uint256 k = 0; k < order.length; ++k) {
            Call memory c = _snapshot(LIQUIDATE, a, liquidator, order[k]);
            c.traderCaller = kind != 0;
            if (
                _waterfallCall(
                    c,
                    liquidator,
                    abi.encodeCall(IClearingHouse.liquidate, (a, order[k], type(uint256).max))
                )
            ) {
                continue;
            }
            if (kind == 0) {
                _fail(F_ACCOUNT, "a single liquidate reverted where liquidateAccount did not");
                return;
            }
            wvm.revertToState(start);
            ++accountLiquidationsUnreplayable;
            return;
        }
        if (_accountDigest() != digest) {
            _fail(F_ACCOUNT, "liquidateAccount != the single liquidate calls");
            return;
        }
        if (_logChain != logs) {
            _fail(F_ACCOUNT, "liquidateAccount's logs != the single calls' logs");
            return;
        }
        ++accountLiquidations;
        if (order.length > 1) ++accountLiquidationsMultiMarket;
        if (kind != 0) ++accountLiquidationsByTrader;
    }

    /// @dev liquidateAccount on a liquidatable account that is not bankrupt: NotBankrupt with its equity.
    function _liquidateSolventAccount(uint256 accountSeed, uint256 keeperSeed) internal {
        address keeper = _accounts[TRADERS + (keeperSeed % 2)];
        (bool found, address a) = _findLiquidatable(accountSeed, keeper);
        if (!found) return;
        int256 equity = clearingHouse.accountHealth(a).equity;
        if (equity < 0) return; // bankrupt with an open case
        vm.prank(keeper);
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.liquidateAccount, (a))
        );
        if (!ok && bytes4(reason) == ORACLE_STALE && _stale()) return;
        if (ok || keccak256(reason) != keccak256(abi.encodeWithSelector(NOT_BANKRUPT, a, equity))) {
            _fail(F_ACCOUNT, "liquidateAccount on a solvent account did not revert NotBankrupt(account, equity)");
            return;
        }
        ++accountLiquidationRefusals;
    }

    /// @dev A refusal of liquidateAccount (the state is as before: the call reverted). A keeper has the collateral
    /// for anything; a trader or member caller may lack the margin, or a member its reserve; any caller meets a
    /// stale oracle.
    function _accountRefused(bytes memory reason, uint256 kind) internal {
        bytes4 selector = bytes4(reason);
        bool margin =
            selector == IClearingHouseErrors.InsufficientMargin.selector ||
                selector == IClearingHouseErrors.NegativeEquity.selector ||
                selector == IClearingHouseErrors.AssessmentReserveRequired.selector;
        bool stale = selector == ORACLE_STALE && _stale();
        if (!stale && (kind == 0 || !margin)) {
            _fail(F_ACCOUNT, string.concat("liquidateAccount reverted: ", _hex(reason)));
            return;
        }
        ++accountLiquidationRefusals;
    }

    /// @dev A bankrupt account with a position and no open case.
    function _findBankrupt(uint256 seed) internal view returns (bool, address) {
        for (uint256 k = 0; k < ACCOUNTS; ++k) {
            address a = _accounts[(seed + k) % ACCOUNTS];
            if (clearingHouse.openMarketsOf(a).length == 0 || clearingHouse.deleverageCaseOf(a).open) continue;
            if (clearingHouse.accountHealth(a).equity < 0) return (true, a);
        }
        return (false, address(0));
    }

    /// @dev The account's markets in the order of the single calls: every other in market order, then the largest
    /// position by notional at the oracle (⌊|size| × price⌋, the first of equals).
    function _singleCallOrder(address a) internal view returns (uint256[] memory order) {
        uint256[] memory open = clearingHouse.openMarketsOf(a);
        uint256 largest;
        uint256 largestNotional;
        for (uint256 k = 0; k < open.length; ++k) {
            uint256 notional = Math.mulDiv(WaterfallMath.abs(_sizeOf(a, open[k])), oraclePrice(open[k]), 1e18);
            if (k == 0 || notional > largestNotional) (largest, largestNotional) = (k, notional);
        }
        order = new uint256[](open.length);
        uint256 n;
        for (uint256 k = 0; k < open.length; ++k) if (k != largest) order[n++] = open[k];
        order[n] = open[largest];
    }

    /// @dev The caller of kind 0 (a keeper), 1 (the trader holding most opposite the account's largest position) or
    /// 2 (a member trader); 0 when there is none other than the account.
    function _accountLiquidator(
        address a,
        uint256 largest,
        uint256 kind,
        uint256 keeperSeed
    ) internal view returns (address liquidator) {
        if (kind == 0) return _accounts[TRADERS + (keeperSeed % 2)];
        if (kind == 2) {
            (bool found, uint256 mi) = _memberIndex(keeperSeed);
            return found && _accounts[mi] != a ? _accounts[mi] : address(0);
        }
        bool longSide = _sizeOf(a, largest) < 0;
        uint256 most;
        for (uint256 i = 0; i < TRADERS; ++i) {
            address t = _accounts[i];
            int256 size = _sizeOf(t, largest);
            if (t == a || size == 0 || (size > 0) != longSide) continue;
            if (WaterfallMath.abs(size) > most) (liquidator, most) = (t, WaterfallMath.abs(size));
        }
    }

    /// @dev Everything a waterfall call can change, hashed.
    function _accountDigest() internal view returns (bytes32 h) {
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address x = _accounts[i];
            h = keccak256(
                abi.encode(
                    h,
                    clearingHouse.collateralOf(x),
                    clearingHouse.accountHealth(x),
                    clearingHouse.claimsOf(x),
                    clearingHouse.deleverageCaseOf(x)
                )
            );
            for (uint256 m = 0; m < MARKETS; ++m) h = keccak256(abi.encode(h, clearingHouse.positionOf(x, m)));
        }
        for (uint256 m = 0; m < MARKETS; ++m) h = keccak256(abi.encode(h, clearingHouse.marketState(m)));
        (uint256 issued, uint256 inflow, uint256 events) = clearingHouse.claimsTotals(0);
        h = keccak256(
            abi.encode(
                h,
                clearingHouse.insuranceFees(),
                clearingHouse.protocolFees(),
                clearingHouse.openDeleverageCases(),
                issued,
                inflow,
                events,
                token.balanceOf(address(clearingHouse)),
                token.balanceOf(address(layers)),
                token.balanceOf(address(fund)),
                fund.totalAssets(),
                fund.totalSupply()
            )
        );
    }

    /// @dev `chain` extended with the clearing house's logs among `logs`, in order.
    function _chainLogs(bytes32 chain, WaterfallVm.Log[] memory logs) internal view returns (bytes32) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(clearingHouse)) continue;
            chain = keccak256(abi.encode(chain, logs[i].topics, logs[i].data));
        }
        return chain;
    }

    /// Stakers refill the fund while a deleverage case is open.
    function refillDuringCase(uint256 stakerSeed, uint256 amountSeed) public {
        ++calls;
        if (clearingHouse.openDeleverageCases() == 0) return;
        _stakeFor(_stakers[stakerSeed % STAKERS], amountSeed.bound(1_000e6, 50_000e6));
        ++refillsDuringCase;
    }

    // ------------------------------------------------------------ clearing members (issue 11)

    /// A handler account joins the shared layers (three times in four) or the other market's layers: with exactly
    /// what the published rule asks (the smallest contribution), more, or one unit less. Refused exactly with
    /// ContributionTooSmall below the rule, and with MemberOfAnotherFund when it is the other fund's member; a
    /// refusal changes nothing. A member's second join is a top-up.
    function join(uint256 accountSeed, uint256 amountSeed, uint256 mode) public {
        ++calls;
        address a = _accounts[accountSeed % ACCOUNTS];
        bool toOther = mode % 4 == 3;
        DefaultLayers target = toOther ? otherLayers : layers;
        DefaultLayers other = toOther ? layers : otherLayers;
        bool topUp = target.memberOf(a).contribution != 0;
        uint256 required = target.requiredContribution(a);
        uint256 amount = mode % 4 == 1 ? required + amountSeed.bound(1, 2_000e6) : required;
        if (mode % 4 == 2 && !topUp) amount = required - 1;
        if (amount > token.balanceOf(a)) return; // a keeper's rule can ask more than its wallet holds
        bytes memory expected;
        if (!topUp && amount < required) {
            expected = abi.encodeWithSelector(IDefaultLayers.ContributionTooSmall.selector, a, amount, required);
        } else if (!topUp && other.memberOf(a).contribution != 0) {
            expected = abi.encodeWithSelector(IClearingHouseErrors.MemberOfAnotherFund.selector, a, address(other));
        }
        bytes32 before = _memberState(a);
        _beginLogs();
        vm.prank(a);
        (bool ok, bytes memory reason) = address(target).call(abi.encodeCall(IDefaultLayers.join, (amount)));
        _endLogs(ok);
        if (!_checkOutcome(ok, reason, expected, before, a, "join")) {
            if (bytes4(expected) == IClearingHouseErrors.MemberOfAnotherFund.selector) ++otherFundRefusals;
            else ++contributionRefusals;
            return;
        }
        ++memberJoins;
        if (target == layers) ghostJoined += amount;
        if (markOf[a] != address(target)) _fail(F_MEMBER, "a member is not marked by the fund it joined");
    }

    /// A member gives notice; refused exactly with NoticeAlreadyGiven while an earlier notice or its window runs.
    function requestLeave(uint256 accountSeed) public {
        ++calls;
        (bool found, address a, DefaultLayers f) = _member(accountSeed, ACCOUNTS);
        if (!found) return;
        uint256 leaveAt = f.memberOf(a).leaveAt;
        bytes memory expected;
        if (leaveAt != 0 && block.timestamp < leaveAt + LEAVE_WINDOW) {
            expected = abi.encodeWithSelector(IDefaultLayers.NoticeAlreadyGiven.selector, a, leaveAt);
        }
        bytes32 before = _memberState(a);
        vm.prank(a);
        (bool ok, bytes memory reason) = address(f).call(abi.encodeCall(IDefaultLayers.requestLeave, ()));
        if (_checkOutcome(ok, reason, expected, before, a, "requestLeave")) ++noticesGiven;
        else ++leaveRefusals;
    }

    /// A member leaves, after waiting out its notice when the seed says so. Every refusal (no notice, notice running
    /// or lapsed, a default in the cooling-off period, a case open) is predicted exactly.
    function leaveFund(uint256 accountSeed, bool waitForNotice) public {
        ++calls;
        (bool found, address a, DefaultLayers f) = _member(accountSeed, ACCOUNTS);
        if (!found) return;
        uint256 leaveAt = f.memberOf(a).leaveAt;
        if (waitForNotice && leaveAt > block.timestamp) _warp(leaveAt - block.timestamp);
        _leave(a, f);
    }

    /// Timing of exits around a loss: a member whose notice has matured leaves just before a price gap and a
    /// liquidation (allowed: no default in the period yet), or tries just after them (refused with CoolingOff when
    /// the liquidation drew on the layers).
    function leaveAroundLoss(
        uint256 accountSeed,
        uint256 marketSeed,
        uint256 moveSeed,
        uint256 targetSeed,
        bool leaveFirst
    ) public {
        ++calls;
        (bool found, address a, DefaultLayers f) = _member(accountSeed, ACCOUNTS);
        if (!found) return;
        uint256 leaveAt = f.memberOf(a).leaveAt;
        if (leaveAt == 0 || block.timestamp >= leaveAt + LEAVE_WINDOW) {
            vm.prank(a);
            leaveAt = f.requestLeave();
            ++noticesGiven;
        }
        if (block.timestamp < leaveAt) _warp(leaveAt - block.timestamp);
        if (leaveFirst) _leave(a, f);
        gapPrice(marketSeed, moveSeed);
        liquidate(targetSeed, moveSeed, marketSeed, 0);
        if (!leaveFirst) _leave(a, f);
        ++exitsAroundLoss;
    }

    /// A member (a trader) trades with its own second account (one owner on both sides), as maker or taker, at the
    /// band's edge against itself or for itself, or at the oracle; dust, sized around its free collateral above the
    /// reserve, or 6.3x to 9x its free collateral. _submit holds the fill to the member rule.
    function memberTrade(
        uint256 memberSeed,
        uint256 otherSeed,
        uint256 marketSeed,
        bool memberBuys,
        uint256 sizeSeed,
        uint256 mode
    ) public {
        ++calls;
        (bool found, uint256 mi, uint256 oi, uint256 marketId) = _memberPair(memberSeed, otherSeed, marketSeed);
        if (!found) return;
        uint256 price = _edgePrice(marketId, memberBuys, mode % 3);
        uint256 size = _memberSize(_accounts[mi], price, sizeSeed, (mode / 3) % 3);
        if (size == 0) return;
        bool memberMakes = (mode / 9) % 2 == 0;
        _submit(
            _memberOrder(memberMakes ? mi : oi, marketId, memberMakes == memberBuys, size, price),
            memberMakes ? mi : oi,
            memberMakes ? oi : mi
        );
    }

    /// Same block: a member opens against its second account at the oracle and closes at the band's edge against
    /// itself (moving value to the second account) or at the oracle.
    function memberRoundTrip(
        uint256 memberSeed,
        uint256 otherSeed,
        uint256 marketSeed,
        bool memberBuys,
        uint256 sizeSeed,
        bool atEdge
    ) public {
        ++calls;
        (bool found, uint256 mi, uint256 oi, uint256 marketId) = _memberPair(memberSeed, otherSeed, marketSeed);
        if (!found) return;
        uint256 size = _memberSize(_accounts[mi], oraclePrice(marketId), sizeSeed, 1 + (sizeSeed % 2));
        if (size == 0) return;
        if (!_submit(_memberOrder(oi, marketId, !memberBuys, size, oraclePrice(marketId)), oi, mi)) return;
        uint256 back = _edgePrice(marketId, !memberBuys, atEdge ? 0 : 2);
        if (_submit(_memberOrder(mi, marketId, !memberBuys, size, back), mi, oi)) ++memberRoundTrips;
    }

    /// A member (a trader) withdraws exactly down to its reserve, one unit past it (refused exactly), or any amount
    /// up to its free collateral.
    function memberWithdraw(uint256 memberSeed, uint256 mode, uint256 amountSeed) public {
        ++calls;
        (bool found, uint256 mi) = _memberIndex(memberSeed);
        if (!found) return;
        address a = _accounts[mi];
        uint256 free = clearingHouse.accountHealth(a).freeCollateral;
        uint256 reserve = _reserveOf(a);
        uint256 atLimit = free > reserve ? (free - reserve) / SCALE : 0;
        uint256 amount =
            mode % 3 == 0
                ? atLimit
                : mode % 3 == 1
                    ? atLimit + 1
                    : amountSeed.bound(0, free / SCALE);
        if (amount == 0 || amount > free / SCALE) return;
        _withdraw(a, amount);
    }

    /// A member (a trader, whose collateral is not unlimited) calls liquidate, autoDeleverage when the fund covers
    /// the whole deficit, or socializeAfterTimeout: each hands it the position; the member rule holds it as a fill.
    function memberTakeover(uint256 memberSeed, uint256 accountSeed, uint256 kindSeed, uint256 sizeSeed) public {
        ++calls;
        (bool found, uint256 mi) = _memberIndex(memberSeed);
        if (!found) return;
        address m = _accounts[mi];
        if (kindSeed % 3 == 0) {
            (bool liquidatable, address a) = _findLiquidatable(accountSeed, m);
            if (!liquidatable) return;
            uint256[] memory markets = clearingHouse.openMarketsOf(a);
            uint256 marketId = markets[sizeSeed % markets.length];
            uint256 positionAbs = WaterfallMath.abs(_sizeOf(a, marketId));
            uint256 size = (sizeSeed >> 1) % 2 == 0 ? type(uint256).max : (sizeSeed >> 2).bound(1, positionAbs);
            Call memory c = _snapshot(LIQUIDATE, a, m, marketId);
            c.traderCaller = true;
            _waterfallCall(c, m, abi.encodeCall(IClearingHouse.liquidate, (a, marketId, size)));
            return;
        }
        (bool open, address b) = _findOpenCase(accountSeed);
        if (!open || b == m) return;
        DeleverageCase memory dc = clearingHouse.deleverageCaseOf(b);
        if (kindSeed % 3 == 1) {
            int256 equity = clearingHouse.accountHealth(b).equity;
            uint256 available = clearingHouse.insuranceFees() + layers.availableForDraw() * SCALE;
            address counterparty = _bestCounterparty(b, dc.marketId, dc.longCounterparties);
            // Only a fund-covered call hands the caller the position; an ADL step hands it to the counterparty.
            if (equity >= 0 || available < uint256(-equity) || counterparty == address(0)) return;
            Call memory c = _snapshot(TAKEOVER, b, m, dc.marketId);
            c.traderCaller = true;
            _waterfallCall(
                c,
                m,
                abi.encodeCall(IClearingHouse.autoDeleverage, (b, dc.marketId, counterparty, type(uint256).max))
            );
            return;
        }
        uint256 readyAt = uint256(dc.startedAt) + clearingHouse.deleverageTimeout();
        if (block.timestamp < readyAt) _warp(readyAt - block.timestamp);
        Call memory t = _snapshot(TIMEOUT, b, m, dc.marketId);
        t.traderCaller = true;
        _waterfallCall(t, m, abi.encodeCall(IClearingHouse.socializeAfterTimeout, (b)));
    }

    /// @notice Whether the member registry agrees everywhere: no account is a member of both funds, and each
    /// account's mark (from the MemberMarked events) is the fund whose member the layers' records say it is.
    function checkMembers() external view returns (bool ok, string memory why) {
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address a = _accounts[i];
            bool shared = layers.memberOf(a).contribution != 0;
            bool other = otherLayers.memberOf(a).contribution != 0;
            if (shared && other) return (false, "an account is a member of two funds");
            address expected =
                shared
                    ? address(layers)
                    : other
                        ? address(otherLayers)
                        : address(0);
            if (markOf[a] != expected) return (false, "an account's mark is not the fund it is a member of");
        }
        return (true, "");
    }

    /// @notice Whether every member was assessed at most k × its contribution in its current period, and the layers'
    /// own count of it (`assessed`) equals the AssessmentCollected events seen since the period started.
    function checkAssessmentCaps() external view returns (bool ok, string memory why) {
        uint256 k = layers.parameters().assessmentMultiple;
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address a = _accounts[i];
            IDefaultLayers.Member memory m = layers.memberOf(a);
            if (m.contribution == 0 || m.periodStart != assessedPeriodStart[a] || m.periodStart == 0) continue;
            uint256 cap = Math.mulDiv(m.contribution, k, 1e18);
            if (assessedInPeriod[a] > cap) {
                return (
                    false,
                    string.concat(
                        "a member was assessed ",
                        Strings.toString(assessedInPeriod[a]),
                        " > k x contribution ",
                        Strings.toString(cap),
                        " in one period"
                    )
                );
            }
            if (assessedInPeriod[a] != m.assessed) return (false, "the layers' assessed != AssessmentCollected seen");
        }
        return (true, "");
    }

    function _leave(address a, DefaultLayers f) internal {
        bytes memory expected = _leaveRefusal(a, f);
        uint256 value = f.memberValue(a);
        uint256 balance = token.balanceOf(a);
        bytes32 before = _memberState(a);
        _beginLogs();
        vm.prank(a);
        (bool ok, bytes memory reason) = address(f).call(abi.encodeCall(IDefaultLayers.leaveFund, ()));
        _endLogs(ok);
        if (!_checkOutcome(ok, reason, expected, before, a, "leaveFund")) {
            ++leaveRefusals;
            if (bytes4(expected) == IDefaultLayers.CoolingOff.selector) ++coolingOffRefusals;
            return;
        }
        ++leaves;
        if (f == layers) ghostLeftPaid += value;
        if (token.balanceOf(a) != balance + value || markOf[a] != address(0) || address(_fundOf(a)) != address(0)) {
            _fail(F_MEMBER, "a leave paid other than the member's value, or left it a member or marked");
        }
    }

    /// @dev leaveFund's refusal for `a` now, in the order the layers check, or empty when it may leave.
    function _leaveRefusal(address a, DefaultLayers f) internal view returns (bytes memory) {
        uint256 leaveAt = f.memberOf(a).leaveAt;
        uint256 last = f.lastDefaultAt();
        uint256 until = last + f.parameters().coolingOffPeriod;
        if (leaveAt == 0) return abi.encodeWithSelector(IDefaultLayers.NoNotice.selector, a);
        if (block.timestamp < leaveAt)
            return abi.encodeWithSelector(IDefaultLayers.NoticeNotElapsed.selector, a, leaveAt);
        if (block.timestamp >= leaveAt + LEAVE_WINDOW) {
            return abi.encodeWithSelector(IDefaultLayers.NoticeLapsed.selector, a, leaveAt + LEAVE_WINDOW);
        }
        if (last != 0 && block.timestamp < until)
            return abi.encodeWithSelector(IDefaultLayers.CoolingOff.selector, last, until);
        if (clearingHouse.openDeleverageCases() != 0)
            return abi.encodeWithSelector(IDefaultLayers.BadDebtPending.selector);
        return "";
    }

    /// @dev A member move against its predicted outcome. `expected` empty: it must go through (returns whether it
    /// did); else it must revert with exactly `expected` and leave the account's member state as it was (false).
    function _checkOutcome(
        bool ok,
        bytes memory reason,
        bytes memory expected,
        bytes32 before,
        address a,
        string memory what
    ) internal returns (bool) {
        if (expected.length == 0) {
            if (!ok) _fail(F_MEMBER, string.concat(what, " reverted: ", _hex(reason)));
            return ok;
        }
        if (ok) {
            _fail(F_MEMBER, string.concat(what, " went through; expected ", _hex(expected)));
        } else if (keccak256(reason) != keccak256(expected)) {
            _fail(F_MEMBER, string.concat(what, " reverted ", _hex(reason), " instead of ", _hex(expected)));
        } else if (_memberState(a) != before) {
            _fail(F_MEMBER, string.concat("a refused ", what, " changed state"));
        }
        return false;
    }

    /// @dev Everything a member move of `a` may change.
    function _memberState(address a) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    layers.memberOf(a),
                    otherLayers.memberOf(a),
                    layers.totalContribution(),
                    layers.memberAssets(),
                    otherLayers.totalContribution(),
                    layers.members().length,
                    otherLayers.members().length,
                    token.balanceOf(a),
                    clearingHouse.collateralOf(a),
                    _signedFree(a)
                )
            );
    }

    /// @dev The member rule's verdict on a fill with a member party, from a probe: the same fill made with the
    /// parties' marks cleared (so without the rule), F after read, everything reverted. "ok" when the rule lets it
    /// through; the exact AssessmentReserveRequired(member, max(F after, 0), R) it must revert with (maker first,
    /// as the clearing house checks); empty when the probe's fill failed for another reason (margin), whose real
    /// refusal is then held to _isReserveRefusal's weaker check.
    function _predictFill(
        bytes memory data,
        MemberSeen memory maker,
        MemberSeen memory taker
    ) internal returns (bytes memory) {
        if (!maker.member && !taker.member) return "";
        (, bytes memory out) = address(this).call(abi.encodeCall(this.probeFill, (data, maker.account, taker.account)));
        wvm.getRecordedLogs(); // the recorder keeps what the reverted probe emitted
        if (out.length != 68 || bytes4(out) != Probed.selector) return "";
        bytes memory args = new bytes(64);
        for (uint256 i = 0; i < 64; ++i) args[i] = out[4 + i];
        (int256 makerAfter, int256 takerAfter) = abi.decode(args, (int256, int256));
        if (_refuses(maker, makerAfter)) return _reserveError(maker, makerAfter);
        if (_refuses(taker, takerAfter)) return _reserveError(taker, takerAfter);
        return "ok";
    }

    /// @notice The probe of _predictFill (this contract only): clears both parties' marks, makes the fill, and
    /// reverts with their free collateral after it.
    function probeFill(bytes calldata data, address maker, address taker) external {
        require(msg.sender == address(this), "probe: only the handler");
        _unmark(maker);
        _unmark(taker);
        vm.prank(taker);
        (bool ok, ) = address(clearingHouse).call(data);
        require(ok, "probe: the fill fails without the rule");
        revert Probed(_signedFree(maker), _signedFree(taker));
    }

    function _unmark(address a) internal {
        DefaultLayers f = _fundOf(a);
        if (address(f) == address(0)) return;
        vm.prank(address(f));
        clearingHouse.markMember(a, false);
    }

    function _refuses(MemberSeen memory seen, int256 freeAfter) internal pure returns (bool) {
        return seen.member && freeAfter < seen.free && freeAfter < int256(seen.reserve);
    }

    function _reserveError(MemberSeen memory seen, int256 freeAfter) internal pure returns (bytes memory) {
        uint256 left = freeAfter > 0 ? uint256(freeAfter) : 0;
        return
            abi.encodeWithSelector(
                IClearingHouseErrors.AssessmentReserveRequired.selector,
                seen.account,
                left,
                seen.reserve
            );
    }

    /// @dev Whether a feed is past its heartbeat: the runner keeps a reverted move's vm.warp while the feeds' updates
    /// roll back, so a move can find one stale; the next warp republishes both.
    function _stale() internal view returns (bool) {
        for (uint256 m = 0; m < MARKETS; ++m) {
            (, , , uint256 updatedAt, ) = _feed(m).latestRoundData();
            if (block.timestamp > updatedAt + 3600) return true;
        }
        return false;
    }

    /// @dev The fund `a` is a member of in the layers' own records (the shared layers, the other ones, or none).
    function _fundOf(address a) internal view returns (DefaultLayers) {
        if (layers.memberOf(a).contribution != 0) return layers;
        if (otherLayers.memberOf(a).contribution != 0) return otherLayers;
        return DefaultLayers(address(0));
    }

    /// @dev R: what `a`'s fund may still assess it this period, 18 decimals (0 for no member).
    function _reserveOf(address a) internal view returns (uint256) {
        DefaultLayers f = _fundOf(a);
        return address(f) == address(0) ? 0 : f.assessmentCapLeft(a) * SCALE;
    }

    /// @dev F = min(collateral − pending charges, equity − initial margin), signed, as MemberReserveLib reads it,
    /// from the views (pending: the positions' funding and social loss owed; no market here haircuts).
    function _signedFree(address a) internal view returns (int256) {
        AccountHealth memory h = clearingHouse.accountHealth(a);
        int256 pending;
        for (uint256 m = 0; m < MARKETS; ++m) {
            PositionView memory p = clearingHouse.positionOf(a, m);
            if (p.size != 0) pending += p.fundingOwed + int256(p.socialLossOwed);
        }
        int256 withdrawable = h.collateral - pending;
        int256 excess = h.equity - int256(h.initialMargin);
        return withdrawable < excess ? withdrawable : excess;
    }

    function _memberBefore(address a) internal view returns (MemberSeen memory seen) {
        seen.account = a;
        seen.member = address(_fundOf(a)) != address(0);
        if (!seen.member) return seen;
        seen.free = _signedFree(a);
        seen.reserve = _reserveOf(a);
    }

    /// @dev The member-dodge rule after a member's own act that went through: F after ≥ min(F before, R), with R
    /// read now (a hand-over's draw may have assessed the member, which lowers R by what it took).
    function _memberAfter(MemberSeen memory seen, string memory what) internal {
        if (!seen.member) return;
        ++memberActs;
        int256 free = _signedFree(seen.account);
        int256 reserve = int256(_reserveOf(seen.account));
        int256 floor = seen.free < reserve ? seen.free : reserve;
        if (free < floor) {
            _fail(
                F_MEMBER,
                string.concat(
                    "a member's ",
                    what,
                    " lowered min(F, R): F ",
                    Strings.toStringSigned(seen.free),
                    " -> ",
                    Strings.toStringSigned(free),
                    ", R ",
                    Strings.toStringSigned(reserve)
                )
            );
        }
    }

    /// @dev Whether `reason` is the member rule refusing `seen`'s act: AssessmentReserveRequired naming it with its
    /// reserve (for a fill exactly R before; a hand-over's draw may have assessed it first, so at most R) and
    /// `left` = max(F after, 0) below both R and F before (or 0).
    function _isReserveRefusal(
        bytes memory reason,
        MemberSeen memory seen,
        bool exactReserve
    ) internal pure returns (bool) {
        if (!seen.member || reason.length != 100) return false;
        if (bytes4(reason) != IClearingHouseErrors.AssessmentReserveRequired.selector) return false;
        bytes memory args = new bytes(96);
        for (uint256 i = 0; i < 96; ++i) args[i] = reason[4 + i];
        (address who, uint256 left, uint256 reserve) = abi.decode(args, (address, uint256, uint256));
        if (who != seen.account || (exactReserve ? reserve != seen.reserve : reserve > seen.reserve)) return false;
        return left == 0 || (left < reserve && int256(left) < seen.free);
    }

    /// @dev A member of either fund among the handler's first `count` accounts, searched from the seed.
    function _member(uint256 seed, uint256 count) internal view returns (bool, address, DefaultLayers) {
        for (uint256 k = 0; k < count; ++k) {
            address a = _accounts[(seed + k) % count];
            DefaultLayers f = _fundOf(a);
            if (address(f) != address(0)) return (true, a, f);
        }
        return (false, address(0), DefaultLayers(address(0)));
    }

    /// @dev A trader that is a member, as an account index.
    function _memberIndex(uint256 seed) internal view returns (bool, uint256) {
        for (uint256 k = 0; k < TRADERS; ++k) {
            uint256 i = (seed + k) % TRADERS;
            if (address(_fundOf(_accounts[i])) != address(0)) return (true, i);
        }
        return (false, 0);
    }

    /// @dev A trader that is a member, its second account (any other handler account) and a market.
    function _memberPair(
        uint256 memberSeed,
        uint256 otherSeed,
        uint256 marketSeed
    ) internal view returns (bool found, uint256 mi, uint256 oi, uint256 marketId) {
        (found, mi) = _memberIndex(memberSeed);
        oi = (mi + 1 + (otherSeed % (ACCOUNTS - 1))) % ACCOUNTS;
        marketId = marketSeed % MARKETS;
    }

    /// @dev The price of a member's fill: at the band's edge against the member (kind 0: it buys at the top, sells
    /// at the bottom), for it (kind 1), or the oracle (kind 2).
    function _edgePrice(uint256 marketId, bool memberBuys, uint256 kind) internal view returns (uint256) {
        uint256 oracle = oraclePrice(marketId);
        if (kind == 2) return oracle;
        uint256 edge = Math.mulDiv(oracle, clearingHouse.marketParams(marketId).priceBand, 1e18);
        return (memberBuys == (kind == 0)) ? oracle + edge : oracle - edge;
    }

    /// @dev A member's fill size: dust (kind 0), 90–110% of what its free collateral above the reserve buys at 15%
    /// of notional (initial margin and the band's edge; kind 1), or 6.3x to 9x its free collateral (kind 2).
    function _memberSize(address a, uint256 price, uint256 seed, uint256 kind) internal view returns (uint256) {
        if (kind == 0) return seed.bound(1, 1_000);
        int256 free = _signedFree(a);
        if (kind == 1) {
            int256 room = free - int256(_reserveOf(a));
            if (room <= 0) room = free;
            if (room <= 0) return seed.bound(1, 1_000);
            return (Math.mulDiv(uint256(room), 1e18 * 100, price * 15) * (90 + (seed % 21))) / 100;
        }
        if (free <= 0) return seed.bound(1, 1_000);
        return (((uint256(free) * 9 * 1e18) / price) * (700 + (seed % 301))) / 1000;
    }

    function _memberOrder(
        uint256 maker,
        uint256 marketId,
        bool makerBuys,
        uint256 size,
        uint256 price
    ) internal returns (Order memory order) {
        order.maker = _accounts[maker];
        order.marketId = marketId;
        order.isBuy = makerBuys;
        order.size = size;
        order.limitPrice = price;
        order.expiry = block.timestamp + 1 hours;
        order.nonce = _nonce++;
    }

    function _onMemberMarked(WaterfallVm.Log memory log) internal {
        address a = address(uint160(uint256(log.topics[1])));
        address f = address(uint160(uint256(log.topics[2])));
        bool member = abi.decode(log.data, (bool));
        address current = markOf[a];
        if (member ? current != address(0) && current != f : current != f) {
            _fail(F_MEMBER, "a fund marked an account another fund had marked, or cleared a mark not its own");
        }
        markOf[a] = member ? f : address(0);
    }

    function _onAssessmentCollected(WaterfallVm.Log memory log, ActionLogs memory out) internal {
        address a = address(uint160(uint256(log.topics[1])));
        uint256 amount = abi.decode(log.data, (uint256));
        out.assessed += amount;
        ghostAssessed += amount;
        ++assessments;
        for (uint256 i = 0; i < ACCOUNTS; ++i) if (_accounts[i] == a) out.collected[i] += amount;
        uint256 start = layers.memberOf(a).periodStart;
        if (start != assessedPeriodStart[a]) {
            assessedPeriodStart[a] = start;
            assessedInPeriod[a] = 0;
        }
        assessedInPeriod[a] += amount;
    }

    function _onLayersLog(WaterfallVm.Log memory log, ActionLogs memory out) internal {
        bytes32 topic = log.topics[0];
        if (topic == LAYER_DRAWN) {
            uint256 amount = abi.decode(log.data, (uint256));
            out.layerDrawn += amount;
            ghostLayerDrawnEvents += amount;
            if (uint256(log.topics[1]) == uint256(IDefaultLayers.Layer.Stakers)) ghostStakersLayerEvents += amount;
        } else if (topic == MEMBER_ASSESSED) {
            (uint256 asked, uint256 collected) = abi.decode(log.data, (uint256, uint256));
            if (collected > asked) _fail(F_MEMBER, "an assessment collected more than it asked");
            out.assessedByLayers += collected;
        }
    }

    // ------------------------------------------------------------ actions: the insurance fund

    /// A staker stakes 1 to 5,000 USD.
    function stake(uint256 stakerSeed, uint256 amountSeed) public {
        ++calls;
        _stakeFor(_stakers[stakerSeed % STAKERS], amountSeed.bound(1e6, 5_000e6));
    }

    /// A staker escrows part of its shares for unstaking. A staker whose request is confirmed may not add to it
    /// (UnstakeAlreadyConfirmed): the confirmed exit is valued as of its exitAt.
    function requestUnstake(uint256 stakerSeed, uint256 sharesSeed) public {
        ++calls;
        address staker = _stakers[stakerSeed % STAKERS];
        uint256 shares = fund.balanceOf(staker);
        if (shares == 0) return;
        vm.prank(staker);
        (bool ok, bytes memory reason) = address(fund).call(
            abi.encodeCall(IInsuranceFund.requestUnstake, (sharesSeed.bound(1, shares)))
        );
        if (!ok && bytes4(reason) != IInsuranceFund.UnstakeAlreadyConfirmed.selector) {
            _fail(F_UNEXPECTED, string.concat("requestUnstake reverted: ", _hex(reason)));
        }
    }

    /// A staker completes its request through the exit flow: it confirms the request once its cooldown is over
    /// (and it is not yet confirmed), and, when the seed says so, warps past the cooldown first and then past the
    /// exit exposure (exitAt) before unstaking. While a deleverage case is open the fund must refuse
    /// (BadDebtPending). Refusals of the flow's timing (cooldown, not confirmed, exposure not elapsed, window
    /// closed) are expected.
    function unstake(uint256 stakerSeed, bool waitForCooldown) public {
        ++calls;
        address staker = _stakers[stakerSeed % STAKERS];
        (uint128 shares, uint128 assetsAtRequest, uint64 readyAt) = fund.unstakeRequests(staker);
        if (shares == 0) return;
        _assetsAtRequest = assetsAtRequest;
        if (waitForCooldown && block.timestamp < readyAt) _warp(readyAt - block.timestamp);
        if (block.timestamp >= readyAt && fund.unstakeExitAt(staker) == 0) {
            // Falls so far in this second came before the confirmation: not this exit's.
            _noteLosses();
            vm.prank(staker);
            (bool confirmed, bytes memory refusal) = address(fund).call(
                abi.encodeCall(IInsuranceFund.confirmUnstake, ())
            );
            if (confirmed) {
                _exitSeen[staker].claim = fund.previewRedeem(shares);
                _exitSeen[staker].confirmed = true;
            } else if (bytes4(refusal) != IInsuranceFund.UnstakeWindowClosed.selector) {
                _fail(F_UNEXPECTED, string.concat("confirmUnstake reverted: ", _hex(refusal)));
            }
        }
        uint256 exitAt = fund.unstakeExitAt(staker);
        // A warp stops at every pending exitAt on its way and observes the escrow there.
        if (waitForCooldown && exitAt != 0 && block.timestamp < exitAt) _warp(exitAt - block.timestamp);
        _observeExit(staker);
        _noteLosses();
        bool casesOpen = clearingHouse.openDeleverageCases() != 0;
        uint256 balanceBefore = token.balanceOf(address(fund));
        vm.prank(staker);
        (bool ok, bytes memory reason) = address(fund).call(abi.encodeCall(IInsuranceFund.unstake, ()));
        bytes4 selector = bytes4(reason);
        if (ok) {
            if (casesOpen) _fail(F_FUND, "unstake succeeded while a deleverage case was open");
            uint256 paid = balanceBefore - token.balanceOf(address(fund));
            ghostUnstaked += paid;
            ++unstakes;
            _checkExitPayout(staker, paid);
        } else if (selector == IInsuranceFund.BadDebtPending.selector && casesOpen) {
            ++unstakesWaitingForBadDebt;
        } else if (
            selector != IInsuranceFund.CooldownNotElapsed.selector &&
            selector != IInsuranceFund.UnstakeNotConfirmed.selector &&
            selector != IInsuranceFund.ExitExposureNotElapsed.selector &&
            selector != IInsuranceFund.UnstakeWindowClosed.selector
        ) {
            _fail(F_UNEXPECTED, string.concat("unstake reverted: ", _hex(reason)));
        }
    }

    /// Timing of exits: a staker confirms its matured request (after waiting out the cooldown) just before a price
    /// gaps and a keeper liquidates, so that a loss may be realized within the exposure hour, which the exit must
    /// bear.
    function confirmBeforeLoss(uint256 stakerSeed, uint256 marketSeed, uint256 moveSeed, uint256 accountSeed) public {
        address staker = _stakers[stakerSeed % STAKERS];
        (uint128 shares, , uint64 readyAt) = fund.unstakeRequests(staker);
        if (shares == 0 || fund.unstakeExitAt(staker) != 0) return;
        if (block.timestamp < readyAt) _warp(readyAt - block.timestamp);
        unstake(stakerSeed, false);
        gapPrice(marketSeed, moveSeed);
        liquidate(accountSeed, stakerSeed, marketSeed, 0);
        ++confirmsBeforeLoss;
    }

    /// A staker cancels its request (matured, confirmed or not): it gets back shares worth at most the value at
    /// request, the rest are burnt.
    function cancelUnstake(uint256 stakerSeed) public {
        ++calls;
        address staker = _stakers[stakerSeed % STAKERS];
        (uint128 shares, , ) = fund.unstakeRequests(staker);
        if (shares == 0) return;
        vm.prank(staker);
        (bool ok, bytes memory reason) = address(fund).call(abi.encodeCall(IInsuranceFund.cancelUnstake, ()));
        if (!ok) _fail(F_UNEXPECTED, string.concat("cancelUnstake reverted: ", _hex(reason)));
        delete _exitSeen[staker];
        ++unstakeCancels;
    }

    /// @dev Issue 9, finding 4: an exit pays at most min(value at request, value at exitAt). The value at exitAt is
    /// the lowest seen at exactly exitAt (every warp stops there), and in any case at most the value right after
    /// the confirmation: between the two only losses may lower it, and gains are not the exit's.
    function _checkExitPayout(address staker, uint256 paid) internal {
        ExitSeen memory seen = _exitSeen[staker];
        delete _exitSeen[staker];
        uint256 cap = _assetsAtRequest;
        if (seen.confirmed && seen.claim < cap) cap = seen.claim;
        if (seen.exitSeen && seen.atExit < cap) cap = seen.atExit;
        if (cap < _assetsAtRequest) ++unstakesBelowRequest;
        if (paid > cap) {
            _fail(
                F_EXIT,
                string.concat(
                    "unstake paid ",
                    Strings.toString(paid),
                    " > min(value at request, value at confirm x losses to exitAt, value at exitAt) ",
                    Strings.toString(cap)
                )
            );
        }
    }

    /// @dev Looks at a share's value: if it fell since the last look (at this second, see _lookedAssets), scales
    /// the claim of every confirmed exit whose exitAt is not past by the fall, rounded up.
    function _noteLosses() internal {
        uint256 assets = fund.totalAssets() + 1;
        uint256 supply = fund.totalSupply() + 1e6;
        // Fell iff assets / supply < lookedAssets / lookedSupply, compared in 512 bits.
        (uint256 nowHigh, uint256 nowLow) = Math.mul512(assets, _lookedSupply);
        (uint256 thenHigh, uint256 thenLow) = Math.mul512(_lookedAssets, supply);
        if (nowHigh < thenHigh || (nowHigh == thenHigh && nowLow < thenLow)) {
            for (uint256 i = 0; i < STAKERS; ++i) {
                ExitSeen storage seen = _exitSeen[_stakers[i]];
                if (!seen.confirmed || block.timestamp > fund.unstakeExitAt(_stakers[i])) continue;
                uint256 claim = Math.mulDiv(seen.claim, assets, _lookedAssets, Math.Rounding.Ceil);
                seen.claim = Math.mulDiv(claim, _lookedSupply, supply, Math.Rounding.Ceil);
            }
        }
        _lookedAssets = assets;
        _lookedSupply = supply;
    }

    /// @dev Records the escrow's value when the clock is at exactly the staker's exitAt (the lowest seen then).
    function _observeExit(address staker) internal {
        uint256 exitAt = fund.unstakeExitAt(staker);
        if (exitAt == 0 || block.timestamp != exitAt) return;
        (uint128 shares, , ) = fund.unstakeRequests(staker);
        uint256 value = fund.previewRedeem(shares);
        ExitSeen storage seen = _exitSeen[staker];
        if (!seen.exitSeen || value < seen.atExit) {
            seen.atExit = value;
            seen.exitSeen = true;
        }
    }

    // ------------------------------------------------------------ actions: repayable claims (issue 10)

    /// Anyone brings tokens to the claims' pot: one token unit (dust) or up to all that is outstanding; an offer
    /// above what is outstanding must be refused and change nothing.
    function repayClaims(uint256 amountSeed, uint256 modeSeed) public {
        ++calls;
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(0);
        uint256 outstandingUnits = (issued - inflow) / SCALE;
        uint256 mode = modeSeed % 3;
        uint256 units =
            mode == 0
                ? 1
                : mode == 1
                    ? amountSeed.bound(1, outstandingUnits + 1)
                    : outstandingUnits + 1;
        _payClaims(units);
    }

    /// Anyone credits an account what its claims may be repaid now, visiting one record or many.
    function claimRepayment(uint256 accountSeed, uint256 recordsSeed) public {
        ++calls;
        uint256 maxRecords = recordsSeed % 2 == 0 ? 1 : recordsSeed.bound(2, 1_000);
        _claim(_accounts[accountSeed % ACCOUNTS], maxRecords);
    }

    /// Same block: a claim right after an inflow, then the same claim again, which must pay nothing.
    function claimRoundTrip(uint256 accountSeed, uint256 amountSeed) public {
        ++calls;
        address a = _accounts[accountSeed % ACCOUNTS];
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(0);
        uint256 outstandingUnits = (issued - inflow) / SCALE;
        if (outstandingUnits != 0) _payClaims(amountSeed.bound(1, outstandingUnits));
        _claim(a, 1_000);
        if (_claim(a, 1_000) != 0) _fail(F_CLAIMS, "a second claim in the same block paid again");
    }

    /// @dev repayClaims(units) from a funder; refused (nothing moves) above what is outstanding, else the pot and
    /// the inflow counter rise by exactly units × 1e12.
    function _payClaims(uint256 units) internal {
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(0);
        address funder = vm.addr(0xF0DE + (_funderNonce++ % 3));
        token.mint(funder, units);
        vm.prank(funder);
        token.approve(address(clearingHouse), units);
        uint256 held = token.balanceOf(address(clearingHouse));
        _beginLogs();
        vm.prank(funder);
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.repayClaims, (0, units))
        );
        _endLogs(ok);
        (, uint256 inflowAfter, ) = clearingHouse.claimsTotals(0);
        uint256 amount = units * SCALE;
        if (amount > issued - inflow) {
            bool refused =
                !ok &&
                    bytes4(reason) == IClearingHouseErrors.ClaimsRepaymentExceedsOutstanding.selector &&
                    inflowAfter == inflow &&
                    token.balanceOf(address(clearingHouse)) == held;
            if (!refused) _fail(F_CLAIMS, "repayClaims above the outstanding claims was not refused cleanly");
            ++claimsRefusals;
            return;
        }
        if (!ok) {
            _fail(F_CLAIMS, string.concat("repayClaims reverted: ", _hex(reason)));
            return;
        }
        if (inflowAfter != inflow + amount || token.balanceOf(address(clearingHouse)) != held + units) {
            _fail(F_CLAIMS, "repayClaims moved other than the amount");
        }
        ghostClaimsInflow += amount;
        ghostClaimsTokens += units;
        ++claimsFundings;
    }

    /// @dev claimRepayment(a, maxRecords) from a keeper: the account's collateral rises by what it returns, which is
    /// Σ of its ClaimRepaid events (read in _endLogs into the records).
    function _claim(address a, uint256 maxRecords) internal returns (uint256 paid) {
        int256 collateral = clearingHouse.collateralOf(a);
        uint256 repaidBefore = ghostClaimsRepaid;
        _beginLogs();
        vm.prank(_accounts[ACCOUNTS - 1]);
        (bool ok, bytes memory ret) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.claimRepayment, (a, maxRecords))
        );
        _endLogs(ok);
        if (!ok) {
            _fail(F_CLAIMS, string.concat("claimRepayment reverted: ", _hex(ret)));
            return 0;
        }
        paid = abi.decode(ret, (uint256));
        if (clearingHouse.collateralOf(a) - collateral != int256(paid) || ghostClaimsRepaid - repaidBefore != paid) {
            _fail(F_CLAIMS, "claimRepayment credited other than its ClaimRepaid events");
        }
        ++claimRepayments;
        if (paid != 0) ++claimRepaymentsPaying;
    }

    /// Anyone pays the fees set aside for the fund: to the outstanding claims first (they stay in the clearing
    /// house), the rest to the fund in whole token units.
    function sweepInsuranceFees() public {
        ++calls;
        uint256 pot = clearingHouse.insuranceFees();
        if (pot < SCALE) return;
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(0);
        uint256 toClaims = pot < issued - inflow ? pot : issued - inflow;
        uint256 rest = pot - toClaims;
        uint256 balanceBefore = token.balanceOf(address(clearingHouse));
        uint256 vaultBefore = token.balanceOf(address(fund));
        _beginLogs();
        clearingHouse.sweepInsuranceFees();
        _endLogs(true);
        ghostClaimsInflow += toClaims;
        // To the layers, which pass the stakers' part on to the vault.
        uint256 swept = balanceBefore - token.balanceOf(address(clearingHouse));
        ghostStakerIncome += token.balanceOf(address(fund)) - vaultBefore;
        (, uint256 inflowAfter, ) = clearingHouse.claimsTotals(0);
        // ⌊rest / 1e12⌋ whole units leave; the rest of the pot stays.
        if (
            swept != rest / SCALE || clearingHouse.insuranceFees() != rest % SCALE || inflowAfter != inflow + toClaims
        ) {
            _fail(F_FUND, "sweep moved other than the whole units of the pot");
        }
        ghostSwept += swept;
        ++sweeps;
    }

    // ------------------------------------------------------------ the waterfall call and its observation

    function _snapshot(
        uint256 kind,
        address subject,
        address other,
        uint256 marketId
    ) internal view returns (Call memory c) {
        c.kind = kind;
        c.marketId = marketId;
        c.price = oraclePrice(marketId);
        c.equity = clearingHouse.accountHealth(subject).equity;
        // settleAll: the subject's funding and social loss in every market it holds are settled first.
        c.subject = _party(subject, marketId, true);
        // The other party is settled only in the market of the call.
        c.other = _party(other, marketId, false);
        c.pot = clearingHouse.insuranceFees();
        c.fundBalance = token.balanceOf(address(fund));
        c.chBalance = token.balanceOf(address(clearingHouse));
        for (uint256 i = 0; i < ACCOUNTS; ++i) c.collaterals[i] = clearingHouse.collateralOf(_accounts[i]);
    }

    function _party(address a, uint256 marketId, bool allMarkets) internal view returns (Party memory p) {
        p.account = a;
        p.collateral = clearingHouse.collateralOf(a);
        for (uint256 m = 0; m < MARKETS; ++m) {
            PositionView memory v = clearingHouse.positionOf(a, m);
            if (m == marketId) {
                p.size = v.size;
                p.openNotional = v.openNotional;
                p.unrealizedPnl = v.unrealizedPnl;
            }
            if (v.size != 0 && (allMarkets || m == marketId)) p.pending += v.fundingOwed + int256(v.socialLossOwed);
            if (m == marketId) p.funding = v.fundingOwed;
        }
    }

    function _waterfallCall(Call memory c, address caller, bytes memory data) internal returns (bool ok) {
        for (uint256 m = 0; m < MARKETS; ++m) {
            MarketState memory state = clearingHouse.marketState(m);
            _openInterestBefore[m][1] = state.longOpenInterest;
            _openInterestBefore[m][0] = state.shortOpenInterest;
        }
        // A clearing member calling may be handed a position: the member-dodge rule holds it to F ≥ R or F not
        // lowered (R read after the call, which may have assessed it).
        MemberSeen memory seen = _memberBefore(caller);
        _beginLogs();
        vm.prank(caller);
        bytes memory reason;
        (ok, reason) = _viaBatch ? _batchOfOne(data) : address(clearingHouse).call(data);
        ActionLogs memory logs = _endLogs(ok);
        if (ok) {
            _observe(c, logs);
            _memberAfter(seen, _kindName(c.kind));
            if (seen.member) ++memberHandOvers;
        } else if (_isReserveRefusal(reason, seen, false)) {
            ++reserveRefusals;
        } else {
            _classifyRevert(c, reason);
        }
    }

    /// @dev `data` as the only item of `clearingHouse.batch`, called by the pranked caller: the item's outcome. A
    /// failed item leaves only its BatchItemFailed log, which `_endLogs(false)` drops with the rest.
    function _batchOfOne(bytes memory data) internal returns (bool, bytes memory) {
        bytes[] memory calls = new bytes[](1);
        calls[0] = data;
        (bool[] memory ok, bytes[] memory results) = clearingHouse.batch(calls);
        ++batchedCalls;
        return (ok[0], results[0]);
    }

    /// @dev Replicates the call from the state before it and accumulates the ghosts.
    function _observe(Call memory c, ActionLogs memory logs) internal {
        // Socialized losses are charged lazily: nobody but the two parties has its collateral touched.
        // (An assessment takes from a member's collateral: exactly what AssessmentCollected says.)
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address a = _accounts[i];
            if (a == c.subject.account || a == c.other.account) continue;
            if (clearingHouse.collateralOf(a) != c.collaterals[i] - int256(logs.collected[i] * SCALE)) {
                _fail(F_SOCIAL_CHARGE, "a waterfall call changed a third account's collateral");
            }
        }
        Effect memory e = _effect(c, logs);
        bool bankrupt = c.equity < 0;
        if (!bankrupt) {
            _observeSolvent(c, e);
        } else {
            if (c.kind == LIQUIDATE) ++liquidationsBankrupt;
            if (c.kind == DELEVERAGE) ++deleverageSteps;
            if (c.kind == TIMEOUT && e.q != 0) ++timeoutResolutions;
            _accumulate(c, e);
        }
        if (logs.deleveragedLoss != 0 && int256(logs.deleveragedLoss) != -e.otherDeviation) {
            _fail(F_BALANCE, "Deleveraged loss differs from the counterparty's observed loss");
        }
        _checkReceipts(c, e, logs.receipts);
    }

    /// @dev Each party's cash value, collateral − openNotional, moves by exactly the notional it pays or receives
    /// (realized PnL and the released cost basis cancel), less the charges settled first. So the deviation of each
    /// party from a trade at the oracle notional ⌈q × price⌉ (long closing) or ⌊q × price⌋ (short closing) is what
    /// the call gave or took beyond trading: the bankrupt account's credit, the keeper's reward, the counterparty's loss.
    function _effect(Call memory c, ActionLogs memory logs) internal returns (Effect memory e) {
        e.q = WaterfallMath.abs(c.subject.size) - WaterfallMath.abs(_sizeOf(c.subject.account, c.marketId));
        int256 notional =
            c.kind == DELEVERAGE
                ? int256(WaterfallMath.adlNotional(c.subject.size, e.q, c.price))
                : int256(WaterfallMath.closeNotional(c.subject.size > 0, e.q, c.price));
        int256 received = c.subject.size > 0 ? notional : -notional; // by the subject, paid by the other party
        // What the call settled of the subject's pending charges: all of them, unless it returned before settling
        // (a case closed because its position is no longer the account's last one).
        int256 settled = c.subject.pending - _party(c.subject.account, c.marketId, true).pending;
        // An assessment a party paid in the call is the layers', not the hand-over's: added back.
        e.credited =
            _cashValue(c.subject.account, c.marketId) +
            _collectedFrom(logs, c.subject.account) -
            (_cashValue(c.subject) - settled + received);
        // The other party, when it trades, settles its funding and its social loss, which may include a share of a
        // charge this very call made (it was on the charged side when the call began): read it from the logs.
        int256 expectedOther =
            e.q == 0
                ? _cashValue(c.other)
                : _cashValue(c.other) -
                    c.other.funding -
                    _socialSettled(logs.raw, c.other.account, c.marketId) -
                    received;
        e.otherDeviation =
            _cashValue(c.other.account, c.marketId) +
            _collectedFrom(logs, c.other.account) -
            expectedOther;
        ghostVaultOutflow += c.fundBalance - token.balanceOf(address(fund)); // waterfall calls only pay out of it
        uint256 paid = _layersPaid(c, logs);
        e.fundOut = int256(paid * SCALE) + int256(c.pot) - int256(clearingHouse.insuranceFees());
        e.socialized = logs.socialized[c.marketId];
        e.perUnit = logs.perUnit[c.marketId];
    }

    /// @dev What the layers delivered in the call: the clearing house's balance rose by it less the assessments they
    /// took out of it first. It is what their LayerDrawn events say, and what MemberAssessed says was collected is
    /// what the clearing house's AssessmentCollected events say.
    function _layersPaid(Call memory c, ActionLogs memory logs) internal returns (uint256 paid) {
        paid = token.balanceOf(address(clearingHouse)) + logs.assessed - c.chBalance;
        ghostFundOutflow += paid;
        if (paid != logs.layerDrawn) _fail(F_FUND, "the layers delivered other than their LayerDrawn events");
        if (logs.assessedByLayers != logs.assessed) {
            _fail(F_MEMBER, "MemberAssessed collected != the clearing house's AssessmentCollected");
        }
    }

    /// @dev What an assessment took from `a` in the action, 18 decimals.
    function _collectedFrom(ActionLogs memory logs, address a) internal view returns (int256) {
        for (uint256 i = 0; i < ACCOUNTS; ++i) if (_accounts[i] == a) return int256(logs.collected[i] * SCALE);
        return 0;
    }

    /// @dev Σ SocialLossSettled of `a` in `marketId` among `logs`.
    function _socialSettled(
        WaterfallVm.Log[] memory logs,
        address a,
        uint256 marketId
    ) internal view returns (int256 total) {
        for (uint256 i = 0; i < logs.length; ++i) {
            WaterfallVm.Log memory log = logs[i];
            if (log.emitter != address(clearingHouse) || log.topics.length < 3) continue;
            if (log.topics[0] != WaterfallEvents.SOCIAL_LOSS_SETTLED) continue;
            if (address(uint160(uint256(log.topics[1]))) != a || uint256(log.topics[2]) != marketId) continue;
            total += int256(abi.decode(log.data, (uint256)));
        }
    }

    function _cashValue(Party memory p) internal pure returns (int256) {
        return p.collateral - p.openNotional;
    }

    function _cashValue(address a, uint256 marketId) internal view returns (int256) {
        return clearingHouse.collateralOf(a) - clearingHouse.positionOf(a, marketId).openNotional;
    }

    /// @dev Solvent liquidation: the keeper gains the reward, the pot the fee, and together they stay within equity.
    function _observeSolvent(Call memory c, Effect memory e) internal {
        if (c.kind != LIQUIDATE || e.q == 0) return;
        ++liquidationsSolvent;
        int256 reward = e.otherDeviation;
        int256 fee = -e.fundOut;
        if (reward < 0 || fee < 0 || reward + fee > c.equity) {
            _fail(
                F_PENALTY,
                string.concat(
                    "reward ",
                    Strings.toStringSigned(reward),
                    " + fee ",
                    Strings.toStringSigned(fee),
                    " > equity ",
                    Strings.toStringSigned(c.equity)
                )
            );
        }
        if (clearingHouse.accountHealth(c.subject.account).equity < 0) {
            _fail(F_PENALTY, "a solvent liquidation left negative equity");
        }
        // What the account lost is what the keeper and the pot gained.
        if (e.credited != e.fundOut - e.otherDeviation) _fail(F_BALANCE, "solvent liquidation does not add up");
    }

    function _accumulate(Call memory c, Effect memory e) internal {
        int256 reward = e.otherDeviation > 0 ? e.otherDeviation : int256(0);
        int256 loss = e.otherDeviation < 0 ? -e.otherDeviation : int256(0);
        int256 fundPaid = e.fundOut - reward;
        if (c.kind == DELEVERAGE && reward != 0) _fail(F_BALANCE, "an ADL counterparty gained");
        if (c.kind != DELEVERAGE && loss != 0) _fail(F_BALANCE, "a keeper lost in a handover");
        if (c.kind == TIMEOUT && reward != 0) _fail(F_BALANCE, "socializeAfterTimeout paid a reward");
        if (c.kind == TAKEOVER && reward != 0) _fail(F_BALANCE, "a fund-covered autoDeleverage paid a reward");
        if (c.kind == LIQUIDATE && reward != 0) _fail(F_BANKRUPT_REWARD, "a bankrupt liquidation paid a reward");
        if (e.credited < 0 || fundPaid < 0) _fail(F_BALANCE, "negative credit or fund payment");
        if (e.credited != fundPaid + loss + int256(e.socialized)) {
            _fail(
                F_BALANCE,
                string.concat(
                    "call: credited ",
                    Strings.toStringSigned(e.credited),
                    " != fund ",
                    Strings.toStringSigned(fundPaid),
                    " + deleveraged ",
                    Strings.toStringSigned(loss),
                    " + socialized ",
                    Strings.toString(e.socialized)
                )
            );
        }
        if (c.kind == DELEVERAGE && e.q != 0) {
            // The counterparty gives up at most the unrealized profit of the part it takes back.
            uint256 profit =
                c.other.unrealizedPnl > 0
                    ? Math.mulDiv(uint256(c.other.unrealizedPnl), e.q, WaterfallMath.abs(c.other.size))
                    : 0;
            if (uint256(loss) > profit) {
                _fail(
                    F_ADL_PROFIT,
                    string.concat("ADL loss ", Strings.toStringSigned(loss), " > profit ", Strings.toString(profit))
                );
            }
        }
        ghostShortfall += e.credited;
        ghostFundPaid += fundPaid;
        ghostDeleveraged += loss;
        ghostSocialized += int256(e.socialized);
        Pending storage p = _pending[c.subject.account];
        p.credited += e.credited;
        p.fundPaid += fundPaid;
        p.deleveraged += loss;
        p.socialized += int256(e.socialized);
        if (clearingHouse.deleverageCaseOf(c.subject.account).open && c.kind == LIQUIDATE) ++casesOpened;
    }

    /// @dev Each receipt equals the sums observed since the account's last receipt, and a bankrupt account whose
    /// position the call closed ends at equity in [0, 1 wei].
    function _checkReceipts(Call memory c, Effect memory e, WaterfallEvents.Receipt[] memory rs) internal {
        for (uint256 i = 0; i < rs.length; ++i) {
            WaterfallEvents.Receipt memory r = rs[i];
            Pending memory p = _pending[r.account];
            delete _pending[r.account];
            ++receipts;
            if (r.socialized != 0) ++socializedReceipts;
            if (r.deleveraged != 0) ++deleveragedReceipts;
            receiptShortfall += r.shortfall;
            receiptParts += r.fundPaid + r.deleveraged + r.socialized;
            if (
                int256(r.shortfall) != p.credited ||
                int256(r.fundPaid) != p.fundPaid ||
                int256(r.deleveraged) != p.deleveraged ||
                int256(r.socialized) != p.socialized ||
                r.perUnit != (r.socialized == 0 ? 0 : e.perUnit)
            ) {
                _fail(
                    F_BALANCE,
                    string.concat(
                        "receipt (",
                        Strings.toString(r.shortfall),
                        ", ",
                        Strings.toString(r.fundPaid),
                        ", ",
                        Strings.toString(r.deleveraged),
                        ", ",
                        Strings.toString(r.socialized),
                        ") != observed (",
                        Strings.toStringSigned(p.credited),
                        ", ",
                        Strings.toStringSigned(p.fundPaid),
                        ", ",
                        Strings.toStringSigned(p.deleveraged),
                        ", ",
                        Strings.toStringSigned(p.socialized),
                        ")"
                    )
                );
            }
            // A bankrupt account whose position was closed by the call ends at equity 0 (1 wei of rounding in its
            // favour at most): its collateral when it holds nothing else.
            if (c.equity < 0 && r.account == c.subject.account && e.q != 0 && _sizeOf(r.account, c.marketId) == 0) {
                int256 equity = clearingHouse.accountHealth(r.account).equity;
                if (equity < 0 || equity > 1) {
                    _fail(F_BALANCE, string.concat("resolved account at equity ", Strings.toStringSigned(equity)));
                }
            }
        }
    }

    function _classifyRevert(Call memory c, bytes memory reason) internal {
        bytes4 selector = bytes4(reason);
        ++revertsBySelector[selector];
        if (
            reason.length < 4 ||
            selector == 0x4e487b71 || // Panic(uint256): arithmetic over/underflow, division by zero, …
            selector == SafeCast.SafeCastOverflowedUintDowncast.selector ||
            selector == SafeCast.SafeCastOverflowedIntToUint.selector ||
            selector == SafeCast.SafeCastOverflowedIntDowncast.selector ||
            selector == SafeCast.SafeCastOverflowedUintToInt.selector
        ) {
            _fail(F_STUCK, string.concat(_kindName(c.kind), " stuck: ", _hex(reason)));
            return;
        }
        bool expected;
        if (c.kind == DELEVERAGE) {
            if (selector == DELEVERAGE_OUT_OF_ORDER && !_inOrder) ++outOfTurnRefusals;
            expected =
                selector == IClearingHouseErrors.DeleverageExceedsProfit.selector ||
                selector == IClearingHouseErrors.NotBankrupt.selector ||
                (selector == DELEVERAGE_OUT_OF_ORDER && !_inOrder);
        } else if (c.kind == LIQUIDATE) {
            // A bankrupt account's largest position goes last; a trader liquidating may lack the margin to take
            // the position (or, on the old code, the charged side may be empty once it has).
            expected =
                (selector == LARGEST_POSITION_GOES_LAST && c.equity < 0) ||
                (c.traderCaller &&
                    (selector == IClearingHouseErrors.InsufficientMargin.selector ||
                        selector == IClearingHouseErrors.NegativeEquity.selector ||
                        selector == IClearingHouseErrors.NoPositionsToCharge.selector));
        } else {
            // A trader (a clearing member) taking a position over by ADL or after the timeout may lack the margin.
            expected =
                c.traderCaller &&
                (selector == IClearingHouseErrors.InsufficientMargin.selector ||
                    selector == IClearingHouseErrors.NegativeEquity.selector);
        }
        if (!expected) _fail(F_UNEXPECTED, string.concat(_kindName(c.kind), " reverted: ", _hex(reason)));
    }

    // ------------------------------------------------------------ logs and the social-loss ghost

    function _beginLogs() internal {
        wvm.recordLogs();
    }

    /// @dev Reads the action's logs in order: keeps the ghost sizes and social-loss indices, checks each
    /// SocialLossSettled charge against ⌈|size| × (index − last settled index)⌉, each index rise against
    /// ⌈amount × 1e18 / open interest⌉, and sums the fund's Drawn events. The logs of a call that reverted are
    /// dropped (the recorder keeps what a reverted call emitted).
    function _endLogs(bool succeeded) internal returns (ActionLogs memory out) {
        WaterfallVm.Log[] memory logs = wvm.getRecordedLogs();
        if (!succeeded) logs = new WaterfallVm.Log[](0);
        _logChain = _chainLogs(_logChain, logs);
        for (uint256 i = 0; i < logs.length; ++i) {
            WaterfallVm.Log memory log = logs[i];
            if (log.topics.length == 0) continue;
            bytes32 topic = log.topics[0];
            if (log.emitter == address(fund)) {
                if (topic == WaterfallEvents.FUND_DRAWN) {
                    (uint256 amount, ) = abi.decode(log.data, (uint256, uint256));
                    ghostDrawnEvents += amount;
                }
                continue;
            }
            if (log.emitter == address(layers)) {
                _onLayersLog(log, out);
                continue;
            }
            if (log.emitter != address(clearingHouse)) continue;
            if (topic == MEMBER_MARKED) _onMemberMarked(log);
            else if (topic == ASSESSMENT_COLLECTED) _onAssessmentCollected(log, out);
            else if (topic == WaterfallEvents.POSITION_CHANGED) _onPositionChanged(log);
            else if (topic == WaterfallEvents.SOCIAL_LOSS_SETTLED) _onSocialLossSettled(log);
            else if (topic == WaterfallEvents.LOSS_SOCIALIZED) _onLossSocialized(log, out);
            else if (topic == WaterfallEvents.DELEVERAGED) {
                (, , uint256 loss, ) = abi.decode(log.data, (uint256, uint256, uint256, uint256));
                out.deleveragedLoss += loss;
            } else if (topic == WaterfallEvents.LOSS_EVENT_RECORDED) _onLossEventRecorded(log);
            else if (topic == WaterfallEvents.CLAIM_RECORDED) _onClaimRecorded(log);
            else if (topic == WaterfallEvents.CLAIM_REPAID) _onClaimRepaid(log);
        }
        out.receipts = WaterfallEvents.receipts(logs, address(clearingHouse));
        out.raw = logs;
    }

    function _onPositionChanged(WaterfallVm.Log memory log) internal {
        address a = address(uint160(uint256(log.topics[1])));
        uint256 m = uint256(log.topics[2]);
        (int256 sizeAfter, , , ) = abi.decode(log.data, (int256, int256, int256, uint256));
        int256 before = _ghostSize[a][m];
        // A position that opens or changes side starts owing its new side's losses from now on.
        if (sizeAfter != 0 && (before == 0 || (before > 0) != (sizeAfter > 0))) {
            _ghostLastIndex[a][m] = _ghostIndex[m][sizeAfter > 0 ? 1 : 0];
        }
        _ghostSize[a][m] = sizeAfter;
    }

    function _onSocialLossSettled(WaterfallVm.Log memory log) internal {
        address a = address(uint160(uint256(log.topics[1])));
        uint256 m = uint256(log.topics[2]);
        uint256 amount = abi.decode(log.data, (uint256));
        int256 size = _ghostSize[a][m];
        uint256 index = _ghostIndex[m][size > 0 ? 1 : 0];
        uint256 expected = WaterfallMath.socialCharge(size, index - _ghostLastIndex[a][m]);
        if (amount != expected) {
            _fail(
                F_SOCIAL_CHARGE,
                string.concat(
                    "charged ",
                    Strings.toString(amount),
                    " != |size| x index delta ",
                    Strings.toString(expected)
                )
            );
        }
        _ghostLastIndex[a][m] = index;
    }

    function _onLossSocialized(WaterfallVm.Log memory log, ActionLogs memory out) internal {
        uint256 m = uint256(log.topics[1]);
        (bool longSide, uint256 amount, uint256 indexDelta) = abi.decode(log.data, (bool, uint256, uint256));
        // The charge is spread over the side as it stood when the transaction began: nobody (the liquidator
        // taking the position over, in particular) can leave it in the transaction that creates the charge.
        uint256 openInterest = _openInterestBefore[m][longSide ? 1 : 0];
        if (openInterest == 0 || indexDelta != Math.mulDiv(amount, 1e18, openInterest, Math.Rounding.Ceil)) {
            _fail(
                F_CHARGED_SIDE,
                string.concat(
                    "index delta ",
                    Strings.toString(indexDelta),
                    " != ceil(amount x 1e18 / open interest when the call began ",
                    Strings.toString(openInterest),
                    ")"
                )
            );
        }
        _ghostIndex[m][longSide ? 1 : 0] += indexDelta;
        out.socialized[m] += amount;
        out.perUnit[m] += indexDelta;
    }

    function _onLossEventRecorded(WaterfallVm.Log memory log) internal {
        uint256 eventId = uint256(log.topics[1]);
        (uint8 kind, , uint256 amount) = abi.decode(log.data, (uint8, bool, uint256));
        if (eventId != _eventTotal.length) _fail(F_CLAIMS, "loss events out of sequence");
        _eventStart.push(ghostClaimsIssued);
        _eventTotal.push(amount);
        ghostClaimsIssued += amount;
        _lastEventId = eventId;
        _lastEventAdl = kind == uint8(LossKind.AutoDeleverage);
    }

    function _onClaimRecorded(WaterfallVm.Log memory log) internal {
        address a = address(uint160(uint256(log.topics[1])));
        uint256 record = uint256(log.topics[2]);
        (uint8 kind, , uint256 paid) = abi.decode(log.data, (uint8, uint256, uint256));
        if (record != _claims[a].length) _fail(F_CLAIMS, "claim records out of sequence");
        bool adl = kind == uint8(LossKind.AutoDeleverage);
        // An ADL step records its loss event and then its one payer's record.
        if (adl && !(_lastEventAdl && _eventTotal[_lastEventId] == paid)) {
            _fail(F_CLAIMS, "an ADL record without its loss event");
        }
        _claims[a].push(ClaimSeen({paid: paid, repaid: 0, eventId: adl ? _lastEventId : type(uint256).max}));
    }

    function _onClaimRepaid(WaterfallVm.Log memory log) internal {
        address a = address(uint160(uint256(log.topics[1])));
        uint256 record = uint256(log.topics[2]);
        uint256 amount = abi.decode(log.data, (uint256));
        if (record >= _claims[a].length) {
            _fail(F_CLAIMS, "a repayment of a record never recorded");
            return;
        }
        _claims[a][record].repaid += amount;
        ghostClaimsRepaid += amount;
    }

    /// @notice Repayment order: an ADL record (one payer, its event's whole total) of event k holds at most what
    /// the inflows seen reached past every earlier event, clamp(inflow − S_k, 0, T_k), with S_k summed here from
    /// the LossEventRecorded amounts in order; so nothing until every earlier event is whole. Windowed records
    /// (haircut, socialized) are held to their paid amount and to the totals.
    function checkClaimsOrder() external view returns (bool ok, string memory why) {
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            ClaimSeen[] storage seen = _claims[_accounts[i]];
            for (uint256 r = 0; r < seen.length; ++r) {
                uint256 k = seen[r].eventId;
                if (k == type(uint256).max) continue;
                uint256 start = _eventStart[k];
                uint256 reached = ghostClaimsInflow <= start ? 0 : Math.min(ghostClaimsInflow - start, _eventTotal[k]);
                if (seen[r].repaid > reached) {
                    return (
                        false,
                        string.concat(
                            "event ",
                            Strings.toString(k),
                            " repaid ",
                            Strings.toString(seen[r].repaid),
                            " > what inflows reached past earlier events ",
                            Strings.toString(reached)
                        )
                    );
                }
            }
        }
        return (true, "");
    }

    /// @notice Every record repaid at most what it paid; per account, the records seen agree with claimsOf (count,
    /// Σ paid, Σ repaid).
    function checkClaimRecords() external view returns (bool ok, string memory why) {
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address a = _accounts[i];
            ClaimSeen[] storage seen = _claims[a];
            uint256 paid;
            uint256 repaid;
            for (uint256 r = 0; r < seen.length; ++r) {
                if (seen[r].repaid > seen[r].paid) {
                    return (
                        false,
                        string.concat(
                            "record ",
                            Strings.toString(r),
                            " repaid ",
                            Strings.toString(seen[r].repaid),
                            " > paid ",
                            Strings.toString(seen[r].paid)
                        )
                    );
                }
                paid += seen[r].paid;
                repaid += seen[r].repaid;
            }
            ClaimSummary memory view_ = clearingHouse.claimsOf(a);
            if (view_.records != seen.length || view_.paid != paid || view_.repaid != repaid) {
                return (false, "claimsOf disagrees with the records' events");
            }
        }
        return (true, "");
    }

    /// @notice Whether the chain agrees with the ghosts: every position's size and every side's social-loss index
    /// (moved only through PositionChanged and LossSocialized events), and every position's pending social loss in
    /// the account view equals ⌈|size| × (index − index at its last settlement)⌉. Returns the first disagreement.
    function checkSocialLossViews() external view returns (bool ok, string memory why) {
        for (uint256 m = 0; m < MARKETS; ++m) {
            MarketState memory state = clearingHouse.marketState(m);
            if (state.longSocialLossIndex != _ghostIndex[m][1] || state.shortSocialLossIndex != _ghostIndex[m][0]) {
                return (false, "social-loss index moved without a LossSocialized event");
            }
        }
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address a = _accounts[i];
            for (uint256 m = 0; m < MARKETS; ++m) {
                PositionView memory p = clearingHouse.positionOf(a, m);
                if (p.size != _ghostSize[a][m]) return (false, "position moved without a PositionChanged event");
                uint256 expected =
                    p.size == 0
                        ? 0
                        : WaterfallMath.socialCharge(
                            p.size,
                            _ghostIndex[m][p.size > 0 ? 1 : 0] - _ghostLastIndex[a][m]
                        );
                if (p.socialLossOwed != expected) {
                    return (
                        false,
                        string.concat(
                            "view owes ",
                            Strings.toString(p.socialLossOwed),
                            " != |size| x index delta ",
                            Strings.toString(expected)
                        )
                    );
                }
            }
        }
        return (true, "");
    }

    // ------------------------------------------------------------ internal

    /// @dev Two distinct traders with at least 100 USD of free collateral, searched from the seeds.
    function _tradingPair(uint256 makerSeed, uint256 takerSeed) internal view returns (bool, uint256, uint256) {
        (bool makerFound, uint256 maker) = _traderWithFreeCollateral(makerSeed, TRADERS);
        if (!makerFound) return (false, 0, 0);
        (bool takerFound, uint256 taker) = _traderWithFreeCollateral(takerSeed, maker);
        return (takerFound, maker, taker);
    }

    function _traderWithFreeCollateral(uint256 seed, uint256 except) internal view returns (bool, uint256) {
        for (uint256 k = 0; k < TRADERS; ++k) {
            uint256 i = (seed + k) % TRADERS;
            if (i == except) continue;
            if (clearingHouse.accountHealth(_accounts[i]).freeCollateral >= 100e18) return (true, i);
        }
        return (false, 0);
    }

    /// @dev An order of `maker` at up to 2% off the oracle for 6.3x to 9x the smaller free collateral.
    function _order(
        uint256 maker,
        uint256 taker,
        uint256 marketId,
        bool makerBuys,
        uint256 sizeSeed,
        uint256 priceSeed
    ) internal returns (Order memory order) {
        uint256 oracle = oraclePrice(marketId);
        uint256 offset = (oracle * ((priceSeed >> 1) % 201)) / 10_000;
        order.maker = _accounts[maker];
        order.marketId = marketId;
        order.isBuy = makerBuys;
        order.limitPrice = priceSeed & 1 == 0 ? oracle + offset : oracle - offset;
        uint256 free = Math.min(
            clearingHouse.accountHealth(_accounts[maker]).freeCollateral,
            clearingHouse.accountHealth(_accounts[taker]).freeCollateral
        );
        order.size = (((free * 9 * 1e18) / order.limitPrice) * (700 + (sizeSeed % 301))) / 1000;
        order.expiry = block.timestamp + 1 hours;
        order.nonce = _nonce++;
    }

    /// @dev The maker signs, the taker fills all of it. Margin refusals, and fills touching a side frozen by an open
    /// deleverage case, are expected; any other revert is not. Returns whether the fill went through.
    function _submit(Order memory order, uint256 maker, uint256 taker) internal returns (bool) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[maker], clearingHouse.hashOrder(order));
        bytes memory data = abi.encodeCall(IClearingHouse.fillOrder, (order, abi.encodePacked(r, s, v), order.size));
        MemberSeen memory makerSeen = _memberBefore(_accounts[maker]);
        MemberSeen memory takerSeen = _memberBefore(_accounts[taker]);
        bytes memory predicted = _predictFill(data, makerSeen, takerSeen);
        _beginLogs();
        vm.prank(_accounts[taker]);
        (bool ok, bytes memory reason) = address(clearingHouse).call(data);
        _endLogs(ok);
        if (ok) {
            ++fills;
            _memberAfter(makerSeen, "fill (maker)");
            _memberAfter(takerSeen, "fill (taker)");
            if (makerSeen.member || takerSeen.member) ++memberFills;
            if (predicted.length > 4) _fail(F_MEMBER, string.concat("a fill went through; expected ", _hex(predicted)));
        } else if (predicted.length > 4 && keccak256(reason) == keccak256(predicted)) {
            ++reserveRefusals;
            ++exactReserveRefusals;
        } else if (predicted.length != 0) {
            // The probe's fill went through: only the rule may refuse the real one, with exactly these figures.
            _fail(F_MEMBER, string.concat("fill reverted ", _hex(reason), ", predicted ", _hex(predicted)));
        } else if (_isReserveRefusal(reason, makerSeen, true) || _isReserveRefusal(reason, takerSeen, true)) {
            ++reserveRefusals;
        } else if (
            bytes4(reason) == IClearingHouseErrors.InsufficientMargin.selector ||
            bytes4(reason) == IClearingHouseErrors.NegativeEquity.selector ||
            bytes4(reason) == SIDE_FROZEN_BY_DELEVERAGE ||
            (bytes4(reason) == ORACLE_STALE && _stale())
        ) {
            ++marginSkips;
        } else {
            _fail(F_UNEXPECTED, string.concat("fill reverted: ", _hex(reason)));
        }
        return ok;
    }

    function _findLiquidatable(uint256 seed, address keeper) internal view returns (bool, address) {
        for (uint256 k = 0; k < ACCOUNTS; ++k) {
            address a = _accounts[(seed + k) % ACCOUNTS];
            if (a == keeper || clearingHouse.openMarketsOf(a).length == 0) continue;
            AccountHealth memory h = clearingHouse.accountHealth(a);
            if (h.equity >= int256(h.maintenanceMargin)) continue;
            if (h.equity < 0 && clearingHouse.deleverageCaseOf(a).open) continue;
            return (true, a);
        }
        return (false, address(0));
    }

    function _findOpenCase(uint256 seed) internal view returns (bool, address) {
        for (uint256 k = 0; k < ACCOUNTS; ++k) {
            address a = _accounts[(seed + k) % ACCOUNTS];
            if (clearingHouse.deleverageCaseOf(a).open) return (true, a);
        }
        return (false, address(0));
    }

    /// @dev The profitable position on the counterparties' side with the highest ADL score (adlRank).
    function _bestCounterparty(address bankrupt, uint256 marketId, bool longSide) internal view returns (address best) {
        uint256 bestScore;
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            address a = _accounts[i];
            if (a == bankrupt) continue;
            int256 size = clearingHouse.positionOf(a, marketId).size;
            if (size == 0 || (size > 0) != longSide) continue;
            AdlRank memory rank = clearingHouse.adlRank(a, marketId);
            if (rank.unrealizedPnl <= 0) continue;
            if (best == address(0) || rank.score > bestScore) {
                best = a;
                bestScore = rank.score;
            }
        }
    }

    /// @dev The entry bucket of a position, ⌊256·log2(|openNotional| / |size|)⌋ (EntryBookLib's function).
    function _entryBucket(address account, uint256 marketId) internal view returns (uint256) {
        PositionView memory p = clearingHouse.positionOf(account, marketId);
        return EntryBookLib.entryBucket(WaterfallMath.abs(p.size), WaterfallMath.abs(p.openNotional));
    }

    /// @dev The side's first entry bucket over every account holding a position there (the lowest entry of the
    /// longs, the highest of the shorts), by brute force.
    function _firstBucket(uint256 marketId, bool longSide) internal view returns (uint256 first) {
        first = longSide ? type(uint256).max : 0;
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            int256 size = clearingHouse.positionOf(_accounts[i], marketId).size;
            if (size == 0 || (size > 0) != longSide) continue;
            uint256 b = _entryBucket(_accounts[i], marketId);
            if (longSide ? b < first : b > first) first = b;
        }
    }

    function _stakeFor(address staker, uint256 amount) internal {
        uint256 balanceBefore = token.balanceOf(address(fund));
        vm.prank(staker);
        fund.deposit(amount, staker);
        ghostStaked += token.balanceOf(address(fund)) - balanceBefore;
    }

    function _movePrice(uint256 marketId, int256 moveBp) internal {
        MockAggregatorV3 feed = _feed(marketId);
        (, int256 answer, , , ) = feed.latestRoundData();
        int256 next = (answer * (10_000 + moveBp)) / 10_000;
        int256 initial = marketId == 0 ? _initialAnswer0 : _initialAnswer1;
        if (next < initial / 4) next = initial / 4;
        if (next > initial * 4) next = initial * 4;
        feed.setAnswer(next);
    }

    /// @dev Advances the clock by `elapsed`, stopping at each staker's pending exitAt on the way to observe its
    /// escrow there, and republishes both prices wherever it stops.
    function _warp(uint256 elapsed) internal {
        uint256 target = block.timestamp + elapsed;
        while (true) {
            _noteLosses();
            uint256 next = target;
            for (uint256 i = 0; i < STAKERS; ++i) {
                uint256 exitAt = fund.unstakeExitAt(_stakers[i]);
                if (exitAt > block.timestamp && exitAt < next) next = exitAt;
            }
            vm.warp(next);
            (, int256 answer0, , , ) = _feed0.latestRoundData();
            (, int256 answer1, , , ) = _feed1.latestRoundData();
            _feed0.setAnswer(answer0);
            _feed1.setAnswer(answer1);
            for (uint256 i = 0; i < STAKERS; ++i) _observeExit(_stakers[i]);
            if (next == target) return;
        }
    }

    function _feed(uint256 marketId) internal view returns (MockAggregatorV3) {
        return marketId == 0 ? _feed0 : _feed1;
    }

    function _sizeOf(address a, uint256 marketId) internal view returns (int256) {
        return clearingHouse.positionOf(a, marketId).size;
    }

    function _fail(uint256 category, string memory what) internal {
        if (failures[category]++ == 0) _firstFailure[category] = what;
    }

    function _kindName(uint256 kind) internal pure returns (string memory) {
        return
            kind == LIQUIDATE
                ? "liquidate"
                : kind == DELEVERAGE
                    ? "autoDeleverage"
                    : kind == TAKEOVER
                        ? "autoDeleverage (fund pays all)"
                        : "socializeAfterTimeout";
    }

    function _hex(bytes memory data) internal pure returns (string memory) {
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        bytes16 digits = "0123456789abcdef";
        for (uint256 i = 0; i < data.length; ++i) {
            out[2 + 2 * i] = digits[uint8(data[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }
}

/// @notice Drives a clearing house with two isolated markets beside a shared one (issue 11) for the invariant fuzzer.
/// Three groups of four accounts (three traders, then a keeper): group 0 trades BTC-USD (shared pot, shared
/// InsuranceFund), group 1 SOL-USD (isolated, its own InsuranceFund vault), group 2 AVAX-USD (isolated, its own
/// DefaultLayers: first loss, a stakers' vault, one clearing member who holds no position and can be assessed).
/// Every move belongs to one group, and only that group's pool (its pot in the clearing house, its fund's balances
/// and, for group 2, the member's collateral) may change in it: the handler accepts the new values of that pool into
/// its ghosts after the move, so a change of another pool stays visible to the invariants as a ghost mismatch. Each
/// bankrupt liquidation is observed on the parties that paid: the pot (its change less the liquidation fees that
/// went in), the fund (token outflow, plus what it collected from members, which it got from the clearing house)
/// and the loss policy (LossSocialized), and summed per group against the BadDebtResolved receipts.
/// Adversarial moves: an account holding one market trying to open a market of another group (must revert
/// IsolatedMarketConflict naming it, and change nothing), dust fills and same-block round trips in the isolated
/// markets, and a liquidation by the bankrupt account's own counterparty (one owner on both sides).
contract IsolatedWaterfallHandler is CheatCodes {
    using Bound for uint256;

    WaterfallVm internal constant wvm = WaterfallVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 public constant GROUPS = 3;
    uint256 public constant PER_GROUP = 4; // three traders, then a keeper
    uint256 public constant TRADERS = 3;
    uint256 internal constant SCALE = 1e12;
    uint256 internal constant TRADER_DEPOSIT = 2_000e6;
    uint256 internal constant KEEPER_DEPOSIT = 10_000_000e6;

    bytes32 internal constant FEES_COLLECTED = IClearingHouseEvents.FeesCollected.selector;
    bytes32 internal constant LIQUIDATED = IClearingHouseEvents.Liquidated.selector;
    bytes32 internal constant LOSS_SOCIALIZED = IClearingHouseEvents.LossSocialized.selector;
    bytes32 internal constant BAD_DEBT_RESOLVED = IClearingHouseEvents.BadDebtResolved.selector;
    bytes32 internal constant LOSS_EVENT_RECORDED = IClearingHouseEvents.LossEventRecorded.selector;
    bytes32 internal constant CLAIMS_FUNDED = IClearingHouseEvents.ClaimsFunded.selector;
    bytes32 internal constant CLAIM_REPAID = IClearingHouseEvents.ClaimRepaid.selector;

    // Failure categories.
    uint256 public constant F_SUM = 0; // a receipt does not match what its pool and loss policy paid
    uint256 public constant F_POT = 1; // a pot grew by other than its own market's fees
    uint256 public constant F_CONFLICT = 2; // a fill or liquidation across the isolation rule did not revert cleanly
    uint256 public constant F_UNEXPECTED = 3;
    uint256 public constant F_CLAIMS = 4; // a claims pool was issued, funded or repaid by another pool's move
    uint256 internal constant CATEGORIES = 5;

    IClearingHouse public immutable clearingHouse;
    MockERC20 public immutable token;
    address public immutable member;

    /// Per group: its market, its feed, its fund (the shared InsuranceFund, SOL's vault, AVAX's layers) and, for the
    /// layers, their stakers' vault.
    uint256[GROUPS] internal _market;
    MockAggregatorV3[GROUPS] internal _feeds;
    int256[GROUPS] internal _initialAnswer;
    address[GROUPS] internal _fund;
    address internal _layersStakers;

    address[GROUPS * PER_GROUP] internal _accounts;
    uint256[GROUPS * PER_GROUP] internal _keys;
    uint256 internal _nonce;

    /// A pool as the handler reads it: the pot in the clearing house (18 decimals), the tokens its fund holds (the
    /// layers' and their stakers' vault together), and the member's collateral (group 2 only).
    struct Pool {
        uint256 pot;
        uint256 fundTokens;
        uint256 fundAssets;
        int256 memberCollateral;
    }

    /// The ghosts: each pool as its own group's moves left it.
    Pool[GROUPS] internal _ghost;

    /// Per group, Σ over its bad debts of: the shortfall (receipts), what the pot paid (observed), what the fund
    /// paid (observed, token units × 10^12) and what the loss policy took (LossSocialized).
    uint256[GROUPS] public ghostShortfall;
    int256[GROUPS] public ghostPotPaid;
    uint256[GROUPS] public ghostFundPaid;
    uint256[GROUPS] public ghostPolicy;
    /// Per group, Σ of the insurance share of its market's fees and of its liquidation fees (the pot's inflows).
    uint256[GROUPS] public ghostFeesIn;
    /// Per group, what its sweeps sent to its fund (token units).
    uint256[GROUPS] public ghostSwept;
    /// Per group's claims pool (0 shared, 1 + m for an isolated market m), from that group's own moves only: Σ its
    /// loss events' totals (LossEventRecorded of its market), Σ inflows its sweeps and repayClaims brought (computed
    /// here: a sweep's claims part is min(pot, owed) before it), of which the sweeps' part out of the pot, and Σ
    /// repaid to its accounts' records (ClaimRepaid). Another pool's move changing them is a mismatch.
    uint256[GROUPS] public ghostClaimsIssued;
    uint256[GROUPS] public ghostClaimsInflow;
    uint256[GROUPS] public ghostPotToClaims;
    uint256[GROUPS] public ghostClaimsRepaid;

    uint256 public calls;
    uint256 public fills;
    uint256[GROUPS] public badDebts;
    uint256 public conflictsRefused;
    uint256 public dustFills;
    uint256 public roundTrips;
    uint256 public counterpartyLiquidations;
    uint256 public sweeps;
    uint256 public assessedDraws;
    uint256 public claimsFunded;
    uint256 public claimsPaidOut;
    uint256 public claimsRefusals;
    uint256 public claimSettlements;

    uint256[CATEGORIES] public failures;
    string[CATEGORIES] internal _firstFailure;

    /// One move's recorded logs, reduced to what the checks need (per group).
    struct Seen {
        uint256[GROUPS] feesIn;
        uint256[GROUPS] socialized;
        uint256[GROUPS] bankruptRewards;
        uint256 receipts;
        uint256 shortfall;
        uint256 fundPaid;
        uint256 deleveraged;
        uint256 receiptSocialized;
        uint256 haircut;
        uint256 receiptMarket;
        uint256[GROUPS] issued;
        uint256[GROUPS] funded;
        uint256[GROUPS] repaid;
        /// A claims event of no group's pool or account.
        bool stray;
    }

    /// @param markets BTC, SOL, AVAX market ids. @param feeds Their feeds. @param funds The shared fund, SOL's vault,
    /// AVAX's layers. @param layersStakers The layers' stakers' vault. @param member_ The layers' clearing member.
    constructor(
        IClearingHouse clearingHouse_,
        uint256[GROUPS] memory markets,
        MockAggregatorV3[GROUPS] memory feeds,
        address[GROUPS] memory funds,
        address layersStakers,
        address member_
    ) {
        clearingHouse = clearingHouse_;
        token = MockERC20(clearingHouse_.collateralToken());
        _market = markets;
        _feeds = feeds;
        _fund = funds;
        _layersStakers = layersStakers;
        member = member_;
        for (uint256 g = 0; g < GROUPS; ++g) (, _initialAnswer[g], , , ) = feeds[g].latestRoundData();
        for (uint256 i = 0; i < GROUPS * PER_GROUP; ++i) {
            uint256 key = 0x150A + i;
            address a = vm.addr(key);
            _keys[i] = key;
            _accounts[i] = a;
            uint256 amount = i % PER_GROUP < TRADERS ? TRADER_DEPOSIT : KEEPER_DEPOSIT;
            token.mint(a, amount);
            vm.startPrank(a);
            token.approve(address(clearingHouse_), type(uint256).max);
            clearingHouse_.deposit(amount);
            vm.stopPrank();
        }
        token.mint(address(this), 1_000_000_000e6);
        token.approve(address(clearingHouse_), type(uint256).max);
        token.approve(funds[1], type(uint256).max);
        token.approve(funds[2], type(uint256).max);
        for (uint256 g = 0; g < GROUPS; ++g) _ghost[g] = _pool(g);
    }

    // ------------------------------------------------------------ views for the test

    function account(uint256 i) external view returns (address) {
        return _accounts[i];
    }

    function accounts() external pure returns (uint256) {
        return GROUPS * PER_GROUP;
    }

    function marketOf(uint256 group) external view returns (uint256) {
        return _market[group];
    }

    /// @notice Group g's claims pool: 0 (shared) for group 0, 1 + its market for an isolated one.
    function poolOf(uint256 g) public view returns (uint256) {
        return g == 0 ? 0 : _market[g] + 1;
    }

    function firstFailure(uint256 category) external view returns (string memory) {
        return _firstFailure[category];
    }

    /// @notice Whether group g's pool is as its own moves left it; if not, which field moved.
    function checkGhost(uint256 g) external view returns (bool ok, string memory why) {
        {
            Pool memory now_ = _pool(g);
            Pool memory ghost = _ghost[g];
            if (now_.pot != ghost.pot) return (false, _moved(g, "pot", ghost.pot, now_.pot));
            if (now_.fundTokens != ghost.fundTokens) {
                return (false, _moved(g, "fund tokens", ghost.fundTokens, now_.fundTokens));
            }
            if (now_.fundAssets != ghost.fundAssets) {
                return (false, _moved(g, "fund assets", ghost.fundAssets, now_.fundAssets));
            }
            if (now_.memberCollateral != ghost.memberCollateral) {
                return (false, string.concat("group ", Strings.toString(g), ": the member's collateral moved"));
            }
        }
        return (true, "");
    }

    // ------------------------------------------------------------ actions: trading and the oracle

    /// Two traders of a group trade its market at up to 2% off the oracle for 6.3x to 9x the smaller free collateral.
    function trade(
        uint256 groupSeed,
        uint256 makerSeed,
        uint256 takerSeed,
        bool makerBuys,
        uint256 sizeSeed,
        uint256 priceSeed
    ) public {
        ++calls;
        uint256 g = groupSeed % GROUPS;
        (uint256 maker, uint256 taker) = _pair(g, makerSeed, takerSeed);
        uint256 free = Math.min(_free(_accounts[maker]), _free(_accounts[taker]));
        if (free < 10e18) return;
        uint256 oracle = oraclePrice(g);
        uint256 offset = (oracle * ((priceSeed >> 1) % 201)) / 10_000;
        uint256 price = priceSeed & 1 == 0 ? oracle + offset : oracle - offset;
        uint256 size = (((free * 9 * 1e18) / price) * (700 + (sizeSeed % 301))) / 1000;
        _tradeChecked(g, maker, taker, makerBuys, size, price);
    }

    /// A fill of 1 wei to 10^6 wei at the oracle price in an isolated market: dust positions and near-empty sides.
    function dustTrade(
        uint256 groupSeed,
        uint256 makerSeed,
        uint256 takerSeed,
        bool makerBuys,
        uint256 sizeSeed
    ) public {
        ++calls;
        uint256 g = 1 + (groupSeed % 2);
        (uint256 maker, uint256 taker) = _pair(g, makerSeed, takerSeed);
        if (_tradeChecked(g, maker, taker, makerBuys, sizeSeed.bound(1, 1e6), oraclePrice(g))) ++dustFills;
    }

    /// Two traders of an isolated market open and close the same size in one block at the oracle price.
    function roundTrip(
        uint256 groupSeed,
        uint256 makerSeed,
        uint256 takerSeed,
        bool makerBuys,
        uint256 sizeSeed
    ) public {
        ++calls;
        uint256 g = 1 + (groupSeed % 2);
        (uint256 maker, uint256 taker) = _pair(g, makerSeed, takerSeed);
        uint256 price = oraclePrice(g);
        uint256 size = sizeSeed.bound(1, (Math.min(_free(_accounts[maker]), _free(_accounts[taker])) * 5) / price);
        if (!_tradeChecked(g, maker, taker, makerBuys, size, price)) return;
        if (_tradeChecked(g, maker, taker, !makerBuys, size, price)) ++roundTrips;
    }

    /// Moves a group's price by −5%…+5%.
    function movePrice(uint256 groupSeed, uint256 moveSeed) public {
        ++calls;
        _movePrice(groupSeed % GROUPS, int256(moveSeed % 1001) - 500);
    }

    /// Gaps a group's price by ±10…40%: accounts levered above ~7x go bankrupt.
    function crash(uint256 groupSeed, uint256 moveSeed) public {
        ++calls;
        int256 bp = 1000 + int256((moveSeed >> 1) % 3001);
        _movePrice(groupSeed % GROUPS, moveSeed & 1 == 0 ? bp : -bp);
    }

    /// Advances time by 1 second to 30 minutes and republishes every price. The vaults' assets grow as swept income
    /// vests (over 7 days), so time is the one move that may change every pool's `fundAssets` (only those: it moves
    /// no token, and the ghosts of pots, fund tokens and the member's collateral are left to the invariants).
    function warp(uint256 secondsSeed) public {
        ++calls;
        vm.warp(block.timestamp + secondsSeed.bound(1, 30 minutes));
        for (uint256 g = 0; g < GROUPS; ++g) {
            (, int256 answer, , , ) = _feeds[g].latestRoundData();
            _feeds[g].setAnswer(answer);
            _ghost[g].fundAssets = _pool(g).fundAssets;
        }
    }

    // ------------------------------------------------------------ actions: the waterfall and the pools

    /// The group's keeper, or with `byCounterparty` the liquidatable account's largest opposite position in the same
    /// market (one owner on both sides), liquidates the first liquidatable trader of the group, all or part of it.
    function liquidate(uint256 groupSeed, uint256 accountSeed, bool byCounterparty, uint256 sizeSeed) public {
        ++calls;
        uint256 g = groupSeed % GROUPS;
        (bool found, address target) = _liquidatable(g, accountSeed);
        if (!found) return;
        address liquidator = _accounts[g * PER_GROUP + TRADERS];
        if (byCounterparty) {
            address other = _counterparty(g, target);
            if (other == address(0)) return;
            liquidator = other;
        }
        uint256 amount = sizeSeed & 1 == 0 ? type(uint256).max : WaterfallMath.abs(_size(target, g)) / 2 + 1;
        Pool memory before = _pool(g);
        uint256 chBefore = token.balanceOf(address(clearingHouse));
        wvm.recordLogs();
        vm.prank(liquidator);
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.liquidate, (target, _market[g], amount))
        );
        Seen memory seen = _read(wvm.getRecordedLogs());
        if (!ok) {
            bytes4 sel = bytes4(reason);
            if (
                sel != IClearingHouseErrors.InsufficientMargin.selector &&
                sel != IClearingHouseErrors.NegativeEquity.selector
            ) _fail(F_UNEXPECTED, string.concat("liquidate reverted: ", _hex(reason)));
            _accept(g);
            return;
        }
        if (byCounterparty) ++counterpartyLiquidations;
        Pool memory after_ = _pool(g);
        _checkPot(g, before, after_, seen, true);
        _acceptClaims(g, seen, 0);
        if (seen.receipts != 0) _checkBadDebt(g, before, after_, chBefore, seen);
        _accept(g);
    }

    /// Sweeps a group's pot: its own claims pool first (min(pot, owed)), then whole units to its own fund; the shared
    /// sweep for group 0, sweepIsolatedFees for the others. Nothing to do is refused (ZeroAmount).
    function sweep(uint256 groupSeed) public {
        ++calls;
        uint256 g = groupSeed % GROUPS;
        Pool memory before = _pool(g);
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(poolOf(g));
        uint256 toClaims = Math.min(before.pot, issued - inflow);
        wvm.recordLogs();
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            g == 0
                ? abi.encodeCall(IClearingHouse.sweepInsuranceFees, ())
                : abi.encodeCall(IClearingHouse.sweepIsolatedFees, (_market[g]))
        );
        Seen memory seen = _read(wvm.getRecordedLogs());
        if (!ok) {
            if (bytes4(reason) != IClearingHouseErrors.ZeroAmount.selector) {
                _fail(F_UNEXPECTED, string.concat("sweep reverted: ", _hex(reason)));
            }
            _accept(g);
            return;
        }
        ++sweeps;
        Pool memory after_ = _pool(g);
        if (seen.funded[g] != toClaims) {
            _fail(F_CLAIMS, string.concat("group ", Strings.toString(g), "'s sweep did not fund its own claims first"));
        }
        _acceptClaims(g, seen, toClaims);
        ghostPotToClaims[g] += toClaims;
        if (g != 0) {
            // The claims' part stays here; whole units of the rest, all to the market's own fund.
            uint256 units = (before.pot - toClaims) / SCALE;
            if (after_.pot != before.pot - toClaims - units * SCALE || after_.fundTokens != before.fundTokens + units) {
                _fail(
                    F_POT,
                    string.concat("isolated sweep of group ", Strings.toString(g), " did not move its pot to its fund")
                );
            }
            ghostSwept[g] += units;
        } else {
            ghostSwept[0] += after_.fundTokens - before.fundTokens;
        }
        _accept(g);
    }

    /// Anyone's repayClaims into group g's pool: one unit (dust), a bounded amount, one unit above what the pool
    /// owes (must be refused with ClaimsRepaymentExceedsOutstanding), or a pool that is none (a shared market's
    /// 1 + id, refused NotIsolatedMarket; an unlisted market's, UnknownMarket). A refusal changes nothing.
    function repayClaims(uint256 groupSeed, uint256 amountSeed, uint256 modeSeed) public {
        ++calls;
        uint256 g = groupSeed % GROUPS;
        uint256 pool = poolOf(g);
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(pool);
        uint256 owedUnits = (issued - inflow) / SCALE;
        uint256 mode = modeSeed % 4;
        uint256 units =
            mode == 0
                ? 1
                : mode == 1
                    ? amountSeed.bound(1, owedUnits + 1)
                    : owedUnits + 1;
        bytes memory expected;
        if (mode == 3) {
            // Half the time a shared market named as a pool, else a market that is not listed.
            uint256 count = clearingHouse.marketCount();
            pool = amountSeed % 2 == 0 ? _market[0] + 1 : count + 1 + (amountSeed % 5);
            expected =
                amountSeed % 2 == 0
                    ? abi.encodeWithSelector(IClearingHouseErrors.NotIsolatedMarket.selector, _market[0])
                    : abi.encodeWithSelector(IClearingHouseErrors.UnknownMarket.selector, pool - 1);
            units = 1;
        } else if (units * SCALE > issued - inflow) {
            expected = abi.encodeWithSelector(
                IClearingHouseErrors.ClaimsRepaymentExceedsOutstanding.selector,
                pool,
                units * SCALE,
                issued - inflow
            );
        }
        bytes32 stateBefore = _claimsHash();
        wvm.recordLogs();
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.repayClaims, (pool, units))
        );
        Seen memory seen = _read(wvm.getRecordedLogs());
        if (expected.length != 0) {
            if (ok || keccak256(reason) != keccak256(expected) || _claimsHash() != stateBefore) {
                _fail(F_CLAIMS, string.concat("a bad repayClaims was not refused cleanly: ", _hex(reason)));
            }
            ++claimsRefusals;
            return;
        }
        if (!ok) {
            _fail(F_UNEXPECTED, string.concat("repayClaims reverted: ", _hex(reason)));
            return;
        }
        if (seen.funded[g] != units * SCALE) _fail(F_CLAIMS, "repayClaims funded other than its pool and amount");
        _acceptClaims(g, seen, units * SCALE);
    }

    /// An account settles (a withdrawal of one unit, which writes its claim records; refused is fine) and claims
    /// 1 to 3 of its records; what is repaid belongs to its group's pool.
    function claim(uint256 accountSeed, uint256 maxSeed) public {
        ++calls;
        uint256 i = accountSeed % (GROUPS * PER_GROUP);
        uint256 g = i / PER_GROUP;
        address a = _accounts[i];
        wvm.recordLogs();
        vm.prank(a);
        (bool settled, ) = address(clearingHouse).call(abi.encodeCall(IClearingHouse.withdraw, (1)));
        vm.prank(a);
        (bool ok, bytes memory reason) = address(clearingHouse).call(
            abi.encodeCall(IClearingHouse.claimRepayment, (a, maxSeed.bound(1, 3)))
        );
        Seen memory seen = _read(wvm.getRecordedLogs());
        if (settled) ++claimSettlements;
        if (!ok) {
            _fail(F_UNEXPECTED, string.concat("claimRepayment reverted: ", _hex(reason)));
            return;
        }
        if (seen.repaid[g] != 0) ++claimsPaidOut;
        _acceptClaims(g, seen, 0);
        _accept(g);
    }

    /// Refills an isolated group's fund: a stake in SOL's vault, first-loss capital for AVAX's layers.
    function refill(uint256 groupSeed, uint256 amountSeed) public {
        ++calls;
        uint256 g = 1 + (groupSeed % 2);
        uint256 amount = amountSeed.bound(1e6, 500e6);
        if (g == 1) InsuranceFund(_fund[1]).deposit(amount, address(this));
        else IDefaultLayers(_fund[2]).fundFirstLoss(amount);
        _accept(g);
    }

    /// An account holding a position in one group's market tries to open the market of another group, as the taker or
    /// the maker of a fill with a trader of that group, or by liquidating one of its accounts: the clearing house
    /// must refuse with IsolatedMarketConflict(account, market, held) and nothing may change.
    function crossMarket(uint256 accountSeed, uint256 groupSeed, uint256 counterSeed, uint256 modeSeed) public {
        ++calls;
        (bool found, uint256 xi) = _holder(accountSeed);
        if (!found) return;
        uint256 gx = xi / PER_GROUP;
        uint256 gy = (gx + 1 + (groupSeed % 2)) % GROUPS;
        address x = _accounts[xi];
        address y = _accounts[gy * PER_GROUP + (counterSeed % PER_GROUP)];
        bytes32 stateBefore = _stateHash(x, y, gx, gy);
        (bool attempted, bool ok, bytes memory reason) = _crossCall(xi, gy, counterSeed, modeSeed);
        if (!attempted) return;
        bytes memory expected = abi.encodeWithSelector(
            IClearingHouseErrors.IsolatedMarketConflict.selector,
            x,
            _market[gy],
            _market[gx]
        );
        if (ok) {
            _fail(
                F_CONFLICT,
                string.concat(
                    "an account holding market ",
                    Strings.toString(_market[gx]),
                    " opened market ",
                    Strings.toString(_market[gy])
                )
            );
        } else if (keccak256(reason) != keccak256(expected)) {
            _fail(F_CONFLICT, string.concat("cross-market call reverted otherwise: ", _hex(reason)));
        } else if (_stateHash(x, y, gx, gy) != stateBefore) {
            _fail(F_CONFLICT, "a refused cross-market call changed state");
        } else {
            ++conflictsRefused;
        }
        _accept(gx);
        _accept(gy);
    }

    /// @dev Account xi, in group gy's market: a fill of 0.001 with a group-gy account as taker (mode 0) or maker
    /// (mode 1), or the liquidation of a liquidatable gy trader (mode 2; not attempted when there is none).
    function _crossCall(
        uint256 xi,
        uint256 gy,
        uint256 counterSeed,
        uint256 modeSeed
    ) internal returns (bool attempted, bool ok, bytes memory reason) {
        if (modeSeed % 3 == 2) {
            (bool liquidatable, address target) = _liquidatable(gy, counterSeed);
            if (!liquidatable) return (false, false, "");
            vm.prank(_accounts[xi]);
            (ok, reason) = address(clearingHouse).call(
                abi.encodeCall(IClearingHouse.liquidate, (target, _market[gy], type(uint256).max))
            );
            return (true, ok, reason);
        }
        bool xIsMaker = modeSeed % 3 == 1;
        uint256 yi = gy * PER_GROUP + (counterSeed % PER_GROUP);
        bytes memory call = _signedFill(gy, xIsMaker ? xi : yi, counterSeed & 1 == 0, 1e15, oraclePrice(gy));
        vm.prank(_accounts[xIsMaker ? yi : xi]);
        (ok, reason) = address(clearingHouse).call(call);
        return (true, ok, reason);
    }

    // ------------------------------------------------------------ checks

    /// @dev After a trade or liquidation in group g: g's pot grew by exactly the fees seen in g's market less what it
    /// paid (a bad debt's pot share, checked with the receipt); no other group's market saw fees.
    function _checkPot(uint256 g, Pool memory before, Pool memory after_, Seen memory seen, bool mayPay) internal {
        for (uint256 h = 0; h < GROUPS; ++h) {
            if (h != g && seen.feesIn[h] != 0) {
                _fail(
                    F_POT,
                    string.concat("a move of group ", Strings.toString(g), " collected fees in another market")
                );
            }
        }
        ghostFeesIn[g] += seen.feesIn[g];
        if (!mayPay || seen.receipts == 0) {
            if (after_.pot != before.pot + seen.feesIn[g]) {
                _fail(
                    F_POT,
                    string.concat(
                        "group ",
                        Strings.toString(g),
                        ": pot ",
                        Strings.toString(before.pot),
                        " + fees ",
                        Strings.toString(seen.feesIn[g]),
                        " != ",
                        Strings.toString(after_.pot)
                    )
                );
            }
        }
    }

    /// @dev A bankrupt liquidation of group g: the receipt's fund part is what the pot and the fund paid, observed;
    /// the rest is what the loss policy took; all of it is g's own.
    function _checkBadDebt(
        uint256 g,
        Pool memory before,
        Pool memory after_,
        uint256 chBefore,
        Seen memory seen
    ) internal {
        ++badDebts[g];
        if (seen.receipts != 1 || seen.receiptMarket != _market[g]) {
            _fail(F_SUM, "a liquidation gave other than one receipt of its own market");
            return;
        }
        // Tokens the fund gave = its balance's fall + what it collected from members (taken out of the clearing
        // house, then paid back in); the clearing house received exactly that net of the collections.
        uint256 collected = uint256(before.memberCollateral - after_.memberCollateral) / SCALE;
        if (uint256(before.memberCollateral - after_.memberCollateral) % SCALE != 0) {
            _fail(F_SUM, "an assessment took part of a unit");
        }
        if (collected != 0) ++assessedDraws;
        uint256 fundOut = before.fundTokens + collected - after_.fundTokens;
        uint256 chIn = token.balanceOf(address(clearingHouse)) - chBefore;
        if (chIn + collected != fundOut) _fail(F_SUM, "the clearing house did not receive what the fund paid");
        int256 potPaid = int256(before.pot + seen.feesIn[g]) - int256(after_.pot);
        int256 observed = potPaid + int256(fundOut * SCALE);
        if (observed != int256(seen.fundPaid + seen.bankruptRewards[g])) {
            _fail(
                F_SUM,
                string.concat(
                    "group ",
                    Strings.toString(g),
                    ": receipt fundPaid ",
                    Strings.toString(seen.fundPaid),
                    " != pot + fund observed ",
                    Strings.toStringSigned(observed)
                )
            );
        }
        if (seen.socialized[g] != seen.receiptSocialized || seen.deleveraged != 0 || seen.haircut != 0) {
            _fail(F_SUM, "the loss policy's events do not match the receipt");
        }
        if (seen.shortfall != seen.fundPaid + seen.receiptSocialized) {
            _fail(F_SUM, "receipt: shortfall != fundPaid + socialized");
        }
        ghostShortfall[g] += seen.shortfall;
        ghostPotPaid[g] += potPaid;
        ghostFundPaid[g] += fundOut * SCALE;
        ghostPolicy[g] += seen.socialized[g];
    }

    function _tradeChecked(
        uint256 g,
        uint256 maker,
        uint256 taker,
        bool makerBuys,
        uint256 size,
        uint256 price
    ) internal returns (bool ok) {
        if (size == 0) return false;
        bytes memory call = _signedFill(g, maker, makerBuys, size, price);
        Pool memory before = _pool(g);
        wvm.recordLogs();
        vm.prank(_accounts[taker]);
        bytes memory reason;
        (ok, reason) = address(clearingHouse).call(call);
        Seen memory seen = _read(wvm.getRecordedLogs());
        if (ok) {
            ++fills;
            _checkPot(g, before, _pool(g), seen, false);
            _acceptClaims(g, seen, 0);
        } else if (
            bytes4(reason) != IClearingHouseErrors.InsufficientMargin.selector &&
            bytes4(reason) != IClearingHouseErrors.NegativeEquity.selector
        ) {
            _fail(F_UNEXPECTED, string.concat("fill reverted: ", _hex(reason)));
        }
        _accept(g);
    }

    /// @dev The calldata of a fill of all of an order the maker signs.
    function _signedFill(
        uint256 g,
        uint256 maker,
        bool makerBuys,
        uint256 size,
        uint256 price
    ) internal returns (bytes memory) {
        Order memory order = Order({
            maker: _accounts[maker],
            marketId: _market[g],
            isBuy: makerBuys,
            size: size,
            limitPrice: price,
            expiry: block.timestamp + 1 hours,
            nonce: _nonce++,
            reduceOnly: false
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[maker], clearingHouse.hashOrder(order));
        return abi.encodeCall(IClearingHouse.fillOrder, (order, abi.encodePacked(r, s, v), size));
    }

    // ------------------------------------------------------------ internal

    function _read(WaterfallVm.Log[] memory logs) internal view returns (Seen memory seen) {
        for (uint256 i = 0; i < logs.length; ++i) {
            WaterfallVm.Log memory log = logs[i];
            if (log.emitter != address(clearingHouse) || log.topics.length == 0) continue;
            bytes32 topic = log.topics[0];
            if (topic == FEES_COLLECTED) {
                (, uint256 toInsurance) = abi.decode(log.data, (uint256, uint256));
                seen.feesIn[_groupOf(uint256(log.topics[1]))] += toInsurance;
            } else if (topic == LIQUIDATED) {
                (, , uint256 reward, uint256 fee, bool bankrupt) = abi.decode(
                    log.data,
                    (int256, uint256, uint256, uint256, bool)
                );
                uint256 h = _groupOf(uint256(log.topics[3]));
                seen.feesIn[h] += fee;
                if (bankrupt) seen.bankruptRewards[h] += reward;
            } else if (topic == LOSS_SOCIALIZED) {
                (, uint256 amount, ) = abi.decode(log.data, (bool, uint256, uint256));
                seen.socialized[_groupOf(uint256(log.topics[1]))] += amount;
            } else if (topic == LOSS_EVENT_RECORDED) {
                (, , uint256 amount) = abi.decode(log.data, (uint8, bool, uint256));
                uint256 h = _groupOf(uint256(log.topics[2]));
                if (h < GROUPS) seen.issued[h] += amount;
                else seen.stray = true;
            } else if (topic == CLAIMS_FUNDED) {
                (uint256 amount, ) = abi.decode(log.data, (uint256, uint256));
                uint256 h = _groupOfPool(uint256(log.topics[1]));
                if (h < GROUPS) seen.funded[h] += amount;
                else seen.stray = true;
            } else if (topic == CLAIM_REPAID) {
                uint256 h = _groupOfAccount(address(uint160(uint256(log.topics[1]))));
                if (h < GROUPS) seen.repaid[h] += abi.decode(log.data, (uint256));
                else seen.stray = true;
            } else if (topic == BAD_DEBT_RESOLVED) {
                ++seen.receipts;
                seen.receiptMarket = uint256(log.topics[2]);
                (seen.shortfall, seen.fundPaid, seen.deleveraged, seen.receiptSocialized, , seen.haircut) = abi.decode(
                    log.data,
                    (uint256, uint256, uint256, uint256, uint256, uint256)
                );
            }
        }
    }

    function _groupOf(uint256 marketId) internal view returns (uint256) {
        for (uint256 g = 0; g < GROUPS; ++g) if (_market[g] == marketId) return g;
        return type(uint256).max; // a market no group trades: indexing with it fails loudly
    }

    /// @dev The group whose claims pool `pool` is, or GROUPS for none.
    function _groupOfPool(uint256 pool) internal view returns (uint256) {
        for (uint256 g = 0; g < GROUPS; ++g) if (poolOf(g) == pool) return g;
        return GROUPS;
    }

    /// @dev The group of one of the handler's accounts, or GROUPS for another address.
    function _groupOfAccount(address a) internal view returns (uint256) {
        for (uint256 i = 0; i < GROUPS * PER_GROUP; ++i) if (_accounts[i] == a) return i / PER_GROUP;
        return GROUPS;
    }

    /// @dev After a move of group g: only g's claims pool may have been issued, funded (exactly `inflow`, computed by
    /// the caller) or repaid; the ghosts take g's part.
    function _acceptClaims(uint256 g, Seen memory seen, uint256 inflow) internal {
        if (seen.stray) _fail(F_CLAIMS, "a claims event of no group's pool or account");
        for (uint256 h = 0; h < GROUPS; ++h) {
            if (h == g) continue;
            if (seen.issued[h] != 0 || seen.funded[h] != 0 || seen.repaid[h] != 0) {
                _fail(
                    F_CLAIMS,
                    string.concat(
                        "a move of group ",
                        Strings.toString(g),
                        " issued, funded or repaid claims of group ",
                        Strings.toString(h),
                        "'s pool"
                    )
                );
            }
        }
        if (seen.funded[g] != inflow) _fail(F_CLAIMS, "a pool's inflow moved by other than its sweep or repayClaims");
        if (inflow != 0) ++claimsFunded;
        ghostClaimsIssued[g] += seen.issued[g];
        ghostClaimsInflow[g] += inflow;
        ghostClaimsRepaid[g] += seen.repaid[g];
    }

    /// @dev Every pool's claims totals and the clearing house's token balance: what a refused repayClaims must leave.
    function _claimsHash() internal view returns (bytes32) {
        bytes memory all = abi.encode(token.balanceOf(address(clearingHouse)));
        for (uint256 g = 0; g < GROUPS; ++g) {
            (uint256 issued, uint256 inflow, uint256 events) = clearingHouse.claimsTotals(poolOf(g));
            all = abi.encode(all, issued, inflow, events);
        }
        return keccak256(all);
    }

    function _pool(uint256 g) internal view returns (Pool memory p) {
        if (g == 0) {
            p.pot = clearingHouse.insuranceFees();
            p.fundTokens = token.balanceOf(_fund[0]);
            p.fundAssets = InsuranceFund(_fund[0]).totalAssets();
        } else {
            p.pot = clearingHouse.isolatedPool(_market[g]).fees;
            p.fundTokens = token.balanceOf(_fund[g]);
            if (g == 1) {
                p.fundAssets = InsuranceFund(_fund[1]).totalAssets();
            } else {
                p.fundTokens += token.balanceOf(_layersStakers);
                p.fundAssets = DefaultLayers(_fund[2]).firstLoss() + DefaultLayers(_fund[2]).memberAssets();
                p.memberCollateral = clearingHouse.collateralOf(member);
            }
        }
    }

    /// @dev Takes group g's pool as it is now into the ghosts (a move of group g may change it).
    function _accept(uint256 g) internal {
        _ghost[g] = _pool(g);
    }

    /// @dev A hash of everything a refused cross-market call might have changed.
    function _stateHash(address x, address y, uint256 gx, uint256 gy) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    clearingHouse.collateralOf(x),
                    clearingHouse.collateralOf(y),
                    clearingHouse.positionOf(x, _market[gx]),
                    clearingHouse.positionOf(x, _market[gy]),
                    clearingHouse.positionOf(y, _market[gy]),
                    clearingHouse.marketState(_market[gx]),
                    clearingHouse.marketState(_market[gy]),
                    clearingHouse.openMarketsOf(x),
                    _pool(gx),
                    _pool(gy)
                )
            );
    }

    /// @dev Two distinct traders of group g (maker, taker), as account indices.
    function _pair(uint256 g, uint256 makerSeed, uint256 takerSeed) internal pure returns (uint256, uint256) {
        uint256 maker = makerSeed % TRADERS;
        uint256 taker = (maker + 1 + (takerSeed % (TRADERS - 1))) % TRADERS;
        return (g * PER_GROUP + maker, g * PER_GROUP + taker);
    }

    function _free(address a) internal view returns (uint256) {
        return clearingHouse.accountHealth(a).freeCollateral;
    }

    function _size(address a, uint256 g) internal view returns (int256) {
        return clearingHouse.positionOf(a, _market[g]).size;
    }

    function _liquidatable(uint256 g, uint256 seed) internal view returns (bool, address) {
        for (uint256 k = 0; k < TRADERS; ++k) {
            address a = _accounts[g * PER_GROUP + ((seed + k) % TRADERS)];
            if (_size(a, g) == 0) continue;
            AccountHealth memory h = clearingHouse.accountHealth(a);
            if (h.equity < int256(h.maintenanceMargin)) return (true, a);
        }
        return (false, address(0));
    }

    /// @dev The trader of group g with the largest position opposite `target`'s, or none.
    function _counterparty(uint256 g, address target) internal view returns (address best) {
        int256 size = _size(target, g);
        uint256 most;
        for (uint256 k = 0; k < TRADERS; ++k) {
            address a = _accounts[g * PER_GROUP + k];
            int256 s = _size(a, g);
            if (a == target || s == 0 || (s > 0) == (size > 0)) continue;
            if (WaterfallMath.abs(s) > most) {
                most = WaterfallMath.abs(s);
                best = a;
            }
        }
    }

    /// @dev An account (trader or keeper) holding a position, searched from the seed.
    function _holder(uint256 seed) internal view returns (bool, uint256) {
        for (uint256 k = 0; k < GROUPS * PER_GROUP; ++k) {
            uint256 i = (seed + k) % (GROUPS * PER_GROUP);
            if (clearingHouse.openMarketsOf(_accounts[i]).length != 0) return (true, i);
        }
        return (false, 0);
    }

    function oraclePrice(uint256 g) public view returns (uint256) {
        (, int256 answer, , , ) = _feeds[g].latestRoundData();
        return uint256(answer) * 1e10;
    }

    function _movePrice(uint256 g, int256 moveBp) internal {
        (, int256 answer, , , ) = _feeds[g].latestRoundData();
        int256 next = (answer * (10_000 + moveBp)) / 10_000;
        if (next < _initialAnswer[g] / 4) next = _initialAnswer[g] / 4;
        if (next > _initialAnswer[g] * 4) next = _initialAnswer[g] * 4;
        _feeds[g].setAnswer(next);
    }

    function _moved(uint256 g, string memory what, uint256 was, uint256 is_) internal pure returns (string memory) {
        return
            string.concat(
                "group ",
                Strings.toString(g),
                " (",
                g == 0 ? "shared" : "isolated",
                "): ",
                what,
                " moved outside its own moves: ",
                Strings.toString(was),
                " -> ",
                Strings.toString(is_)
            );
    }

    function _fail(uint256 category, string memory what) internal {
        if (failures[category]++ == 0) _firstFailure[category] = what;
    }

    function _hex(bytes memory data) internal pure returns (string memory) {
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        bytes16 digits = "0123456789abcdef";
        for (uint256 i = 0; i < data.length; ++i) {
            out[2 + 2 * i] = digits[uint8(data[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }
}
