import { readFileSync } from "node:fs";
import { Wallet, type Provider } from "ethers";

import { ConfigError, type KeeperConfig } from "./config.js";
import type { Secret } from "./secret.js";

/** Decrypts one keystore file; `passwordVariable` names where the password came from in the error message. */
export async function decryptKeystore(
  file: string,
  password: Secret<string>,
  provider: Provider,
  passwordVariable = "KEEPER_KEYSTORE_PASSWORD",
): Promise<Wallet> {
  let wallet;
  try {
    wallet = await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password.reveal());
  } catch {
    throw new ConfigError(`cannot decrypt keystore ${file}: wrong ${passwordVariable} or damaged file`);
  }
  return new Wallet(wallet.privateKey, provider);
}

/** Wallets for the configured keys (decrypting keystores), the first `config.signers` of them. */
export async function loadSigners(config: KeeperConfig, provider: Provider): Promise<Wallet[]> {
  const limit = config.signers;
  if (config.keys.kind === "env") {
    const keys = config.keys.privateKeys.reveal();
    return keys.slice(0, limit ?? keys.length).map((key) => new Wallet(key, provider));
  }
  const files = config.keys.files.slice(0, limit ?? config.keys.files.length);
  const wallets: Wallet[] = [];
  for (const file of files) wallets.push(await decryptKeystore(file, config.keys.password, provider));
  return wallets;
}
