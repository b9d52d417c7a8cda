import { Wallet, type Provider } from "ethers";

import { decryptKeystore } from "#sdk";
import type { KeeperConfig } from "./config.js";

/** Wallets for the configured keys (decrypting keystores), the first `config.signers` of them. */
export async function loadSigners(config: KeeperConfig, provider: Provider): Promise<Wallet[]> {
  const limit = config.signers;
  if (config.keys.kind === "env") {
    const keys = config.keys.privateKeys.reveal();
    return keys.slice(0, limit ?? keys.length).map((key) => new Wallet(key, provider));
  }
  const files = config.keys.files.slice(0, limit ?? config.keys.files.length);
  const wallets: Wallet[] = [];
  for (const file of files)
    wallets.push(await decryptKeystore(file, config.keys.password, provider, "KEEPER_KEYSTORE_PASSWORD"));
  return wallets;
}
