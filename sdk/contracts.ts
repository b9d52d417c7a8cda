import type { ContractRunner } from "ethers";

import {
  BackstopLens__factory,
  ChainlinkOracleAdapter__factory,
  ClearingHouse__factory,
  DefaultLayers__factory,
  InsuranceFund__factory,
  LiquidationLogic__factory,
  MockERC20__factory,
  type BackstopLens,
  type ChainlinkOracleAdapter,
  type ClearingHouse,
  type DefaultLayers,
  type InsuranceFund,
  type LiquidationLogic,
  type MockERC20,
} from "../typechain-types/index.js";
import type { Deployment } from "./deployment.js";

/** The typed bindings of one deployment's contracts, named as in the deployment file. */
export interface BackstopBindings {
  clearingHouse: ClearingHouse;
  liquidationLogic: LiquidationLogic;
  insuranceFund: InsuranceFund;
  lens: BackstopLens;
  oracleAdapter: ChainlinkOracleAdapter;
  /** A MockERC20 binding: on a network with an existing stablecoin only its ERC-20 functions work. */
  collateralToken: MockERC20;
  /** The default layers, when the deployment has them. */
  defaultLayers?: DefaultLayers;
}

/** Connects the bindings to the deployment's addresses, read-only through a provider or able to send through a signer. */
export function connectDeployment(deployment: Deployment, runner: ContractRunner): BackstopBindings {
  const c = deployment.contracts;
  return {
    clearingHouse: ClearingHouse__factory.connect(c.clearingHouse, runner),
    liquidationLogic: LiquidationLogic__factory.connect(c.liquidationLogic, runner),
    insuranceFund: InsuranceFund__factory.connect(c.insuranceFund, runner),
    lens: BackstopLens__factory.connect(c.lens, runner),
    oracleAdapter: ChainlinkOracleAdapter__factory.connect(c.oracleAdapter, runner),
    collateralToken: MockERC20__factory.connect(c.collateralToken, runner),
    ...(c.defaultLayers === undefined
      ? {}
      : { defaultLayers: DefaultLayers__factory.connect(c.defaultLayers, runner) }),
  };
}
