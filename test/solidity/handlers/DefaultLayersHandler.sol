// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AccountHealth} from "../../../contracts/interfaces/IClearingHouse.sol";
import {IDefaultLayers} from "../../../contracts/interfaces/IDefaultLayers.sol";
import {DefaultLayers} from "../../../contracts/insurance/DefaultLayers.sol";
import {InsuranceFund} from "../../../contracts/insurance/InsuranceFund.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {CheatCodes, Bound} from "../utils/Vm.sol";
import {WaterfallVm} from "./WaterfallHandler.sol";

/// @notice Drives {DefaultLayers} on its own: the handler is the clearing house the layers draw for (it holds the
/// members' collateral as a plain balance per member and pays assessments from it, as collectAssessment does:
/// at most the free collateral, in whole units) and every actor: six would-be members, a treasury, a staker.
/// Moves include the adversarial ones: dust contributions (exactly the minimum), notice and leave timed around
/// defaults, members who empty their collateral before a default, draws of any size with and without the trigger.
/// Every draw is checked as it happens; the invariant test reads the counters of what went wrong.
contract DefaultLayersHandler is CheatCodes {
    using Bound for uint256;

    WaterfallVm private constant LOGS = WaterfallVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 private constant LAYER_DRAWN = keccak256("LayerDrawn(uint8,uint256)");
    uint256 internal constant ACTORS = 6;
    uint256 internal constant MIN_CONTRIBUTION = 50e6;

    MockERC20 public token;
    DefaultLayers public layers;
    InsuranceFund public fund;
    address[ACTORS] internal actors;

    /// Free collateral of each member in this stand-in clearing house (18 decimals, whole units).
    mapping(address member => uint256) public freeCollateral;
    uint256 public openCases;

    // Ghosts: what the layers paid, counted three ways, and every rule found broken.
    uint256 public ghostPaid;
    uint256 public ghostLayerEvents;
    uint256 public ghostReceived;
    uint256 public ghostDraws;
    uint256 public ghostAssessedDraws;
    uint256 public orderViolations;
    uint256 public capViolations;
    uint256 public earlyLeaves;
    uint256 public overpaid;
    /// Σ collected from a member since its period started (reset with the period), checked against k × contribution.
    mapping(address member => uint256) public collectedInPeriod;
    mapping(address member => uint256) public periodSeen;

    constructor() {
        token = new MockERC20("Mock USD", "mUSD", 6);
    }

    /// @dev Takes the layers (deployed with this contract as clearing house and admin, which needs this contract's
    /// code, and kept out of its bytecode) and their stakers' fund, and connects them.
    function initialize(DefaultLayers layers_, InsuranceFund fund_) external {
        require(address(layers) == address(0), "initialized");
        layers = layers_;
        fund = fund_;
        layers.connectStakers(fund);
        for (uint256 i = 0; i < ACTORS; ++i) {
            actors[i] = address(uint160(0xA000 + i));
            token.mint(actors[i], 1e15);
            vm.prank(actors[i]);
            token.approve(address(layers), type(uint256).max);
        }
        token.mint(address(this), 1e15);
        token.approve(address(layers), type(uint256).max);
        token.approve(address(fund), type(uint256).max);
    }

    // ================================================================ the clearing house the layers see

    function collateralToken() external view returns (address) {
        return address(token);
    }

    function openDeleverageCases() external view returns (uint256) {
        return openCases;
    }

    function accountHealth(address account) external view returns (AccountHealth memory health) {
        health.freeCollateral = freeCollateral[account];
    }

    /// @dev The member registry (MemberReserveLib) lives in the real clearing house; the layers' calls are accepted.
    function markMember(address, bool) external view {
        require(msg.sender == address(layers), "only the layers");
    }

    function collectAssessment(address member, uint256 amount) external returns (uint256 collected) {
        require(msg.sender == address(layers), "only the layers");
        collected = Math.min(amount, freeCollateral[member] / 1e12);
        freeCollateral[member] -= collected * 1e12;
        token.transfer(address(layers), collected);
        collectedInPeriod[member] += collected;
    }

    // ================================================================ moves

    function join(uint256 seed, uint256 amount, bool dust) external {
        address actor = actors[seed % ACTORS];
        amount = dust ? MIN_CONTRIBUTION : amount.bound(MIN_CONTRIBUTION, 5_000e6);
        vm.prank(actor);
        try layers.join(amount) {} catch {}
    }

    function setCollateral(uint256 seed, uint256 units) external {
        // Whole units, as the clearing house only pays those; 0 is a member who withdrew ahead of a default.
        freeCollateral[actors[seed % ACTORS]] = units.bound(0, 20_000e6) * 1e12;
    }

    function requestLeave(uint256 seed) external {
        vm.prank(actors[seed % ACTORS]);
        try layers.requestLeave() {} catch {}
    }

    function leaveFund(uint256 seed) external {
        address actor = actors[seed % ACTORS];
        IDefaultLayers.Member memory member = layers.memberOf(actor);
        uint256 lastDefault = layers.lastDefaultAt();
        vm.prank(actor);
        try layers.leaveFund() {
            bool coolingOff = lastDefault != 0 && block.timestamp < lastDefault + 20 days;
            bool early = member.leaveAt == 0 || block.timestamp < member.leaveAt;
            if (coolingOff || early || openCases != 0) ++earlyLeaves;
            collectedInPeriod[actor] = 0;
            periodSeen[actor] = 0;
        } catch {}
    }

    function fundFirstLoss(uint256 amount) external {
        try layers.fundFirstLoss(amount.bound(1, 2_000e6)) {} catch {}
    }

    function stake(uint256 amount) external {
        fund.deposit(amount.bound(1e6, 5_000e6), address(this));
    }

    function income(uint256 amount) external {
        token.transfer(address(layers), amount.bound(1, 500e6));
        layers.syncIncome();
    }

    function toggleCase(bool open) external {
        openCases = open ? 1 : 0;
    }

    function setTrigger(uint256 fraction) external {
        IDefaultLayers.Params memory p = layers.parameters();
        p.drawdownFraction = fraction % 3 == 0 ? 1e18 : fraction.bound(0.05e18, 1e18);
        layers.setParams(p);
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + seconds_.bound(1, 30 days));
    }

    /// @dev A default: the clearing house asks for `amount`. Checks the receipt and the order of the layers.
    function draw(uint256 amount) external {
        amount = amount.bound(1, 30_000e6);
        uint256 firstLossBefore = layers.firstLoss();
        uint256 available = layers.availableForDraw();
        uint256 balanceBefore = token.balanceOf(address(this));
        uint256 assessedBefore = layers.assessedTotal();
        _rollPeriods();

        LOGS.recordLogs();
        uint256 paid = layers.draw(amount);
        WaterfallVm.Log[] memory logs = LOGS.getRecordedLogs();
        uint256 named;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(layers) && logs[i].topics[0] == LAYER_DRAWN) {
                named += abi.decode(logs[i].data, (uint256));
            }
        }
        uint256 assessed = layers.assessedTotal() - assessedBefore;
        ++ghostDraws;
        ghostPaid += paid;
        ghostLayerEvents += named;
        // This contract also paid the assessments out of the members' collateral it holds.
        ghostReceived += token.balanceOf(address(this)) + assessed - balanceBefore;
        if (paid > amount) ++overpaid;
        // What availableForDraw promised is paid in full.
        if (paid < Math.min(amount, available)) ++orderViolations;

        // No layer pays before the ones above it are exhausted (the stakers: down to their floor and window cap).
        bool stakersPaid = token.balanceOf(address(fund)) < _fundBalanceBefore;
        if (assessed != 0) ++ghostAssessedDraws;
        if (paid > firstLossBefore && layers.firstLoss() != 0) ++orderViolations;
        if ((stakersPaid || assessed != 0) && layers.firstLoss() != 0) ++orderViolations;
        if (assessed != 0 && (fund.availableForDraw() != 0 || layers.memberAssets() != 0)) ++orderViolations;
        _checkCaps();
    }

    // ================================================================ checks

    uint256 private _fundBalanceBefore;

    /// @dev Keeps the ghost period of every member in step with the layers' (a new period starts on the first
    /// assessment after the last one ended).
    function _rollPeriods() private {
        _fundBalanceBefore = token.balanceOf(address(fund));
        address[] memory members = layers.members();
        for (uint256 i = 0; i < members.length; ++i) {
            IDefaultLayers.Member memory m = layers.memberOf(members[i]);
            if (block.timestamp >= uint256(m.periodStart) + 20 days) {
                collectedInPeriod[members[i]] = 0;
                periodSeen[members[i]] = block.timestamp;
            }
        }
    }

    function _checkCaps() private {
        address[] memory members = layers.members();
        for (uint256 i = 0; i < members.length; ++i) {
            IDefaultLayers.Member memory m = layers.memberOf(members[i]);
            uint256 cap = 2 * uint256(m.contribution);
            // What the layers count in the member's current period: nothing once it is over.
            uint256 assessed = block.timestamp >= uint256(m.periodStart) + 20 days ? 0 : m.assessed;
            if (collectedInPeriod[members[i]] > cap || assessed > cap) ++capViolations;
            if (collectedInPeriod[members[i]] != assessed) ++capViolations;
        }
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }
}
