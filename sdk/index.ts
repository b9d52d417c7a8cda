/**
 * The Backstop SDK: what more than one tool needs, imported as `#sdk` (package.json "imports"). It depends on
 * nothing but the TypeChain bindings and its npm dependencies; apps depend on it, never the other way.
 */

// Everything that also runs in a browser.
export * from "./browser.js";

// Node only: flags, keys, deploying, and reading files.
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
export {
  DEPLOYMENTS_DIR,
  deployBackstop,
  writeDeployment,
  type BackstopContracts,
  type DeployBackstopOptions,
  type DeployedBackstop,
  type DeployedIsolatedFund,
} from "./deploy/system.js";
export { isolatedListings, type IsolatedListing } from "./deploy/validate.js";
export { Secret, checkKeystore, decryptKeystore, parsePrivateKeys } from "./keys.js";
export { readDeployment, readOrderFile } from "./files.js";
