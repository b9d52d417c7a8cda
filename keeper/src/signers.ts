import { readFileSync } from "node:fs";
import { Wallet, type Provider } from "ethers";

import { ConfigError, type KeeperConfig } from "./config.js";

/** Wallets for the configured keys (decrypting keystores), the first `config.signers` of them. */
export async function loadSigners(config: KeeperConfig, provider: Provider): Promise<Wallet[]> {
  const limit = config.signers;
  if (config.keys.kind === "env") {
    const keys = config.keys.privateKeys.reveal();
    return keys.slice(0, limit ?? keys.length).map((key) => new Wallet(key, provider));
  }
  const files = config.keys.files.slice(0, limit ?? config.keys.files.length);
  const password = config.keys.password.reveal();
  const wallets: Wallet[] = [];
  for (const file of files) {
    let wallet;
    try {
      wallet = await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password);
    } catch {
      throw new ConfigError(`cannot decrypt keystore ${file}: wrong KEEPER_KEYSTORE_PASSWORD or damaged file`);
    }
    wallets.push(new Wallet(wallet.privateKey, provider));
  }
  return wallets;
}
