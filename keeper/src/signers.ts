import { Wallet, type Provider } from "ethers";

import { decryptKeystore, type Deployment } from "#sdk";
import { ConfigError, type KeeperConfig } from "./config.js";

/** Which key signs where: the shared pool, and each isolated market's own key, by market id (0-based indexes). */
export interface KeyAssignment {
  shared: number[];
  isolated: Map<number, number>;
}

/**
 * The first `config.signers` keys (all by default), less the keys dedicated to isolated markets, form the shared
 * pool; each dedicated key signs for its market only. A market of `--isolated-signer` is a symbol of the
 * deployment file or a market id (a market listed after the file was written); whether it is isolated on chain
 * is checked when the keeper starts.
 */
export function assignKeys(config: KeeperConfig, deployment: Deployment, count: number): KeyAssignment {
  const isolated = new Map(config.isolatedSigners.map((s) => [marketId(s.market, deployment), s.key - 1]));
  const dedicated = new Set(isolated.values());
  const shared = Array.from({ length: config.signers ?? count }, (_, i) => i).filter((i) => !dedicated.has(i));
  return { shared, isolated };
}

/** The keeper's wallets: the shared pool, and each isolated market's own signer by market id. */
export interface KeeperSigners {
  shared: Wallet[];
  isolated: Map<number, Wallet>;
}

/** Wallets for the configured keys (decrypting keystores), as {@link assignKeys} assigns them. */
export async function loadSigners(
  config: KeeperConfig,
  provider: Provider,
  deployment: Deployment,
): Promise<KeeperSigners> {
  const count = config.keys.kind === "env" ? config.keys.privateKeys.reveal().length : config.keys.files.length;
  const assigned = assignKeys(config, deployment, count);
  const load = async (index: number): Promise<Wallet> => {
    if (config.keys.kind === "env") return new Wallet(config.keys.privateKeys.reveal()[index], provider);
    return decryptKeystore(config.keys.files[index], config.keys.password, provider, "KEEPER_KEYSTORE_PASSWORD");
  };
  const shared: Wallet[] = [];
  for (const i of assigned.shared) shared.push(await load(i));
  const isolated = new Map<number, Wallet>();
  for (const [market, i] of assigned.isolated) isolated.set(market, await load(i));
  return { shared, isolated };
}

function marketId(market: string, deployment: Deployment): number {
  if (/^\d+$/.test(market)) return Number(market);
  const found = deployment.markets.find((m) => m.symbol === market);
  if (found === undefined) {
    const known = deployment.markets.map((m) => m.symbol).join(", ");
    throw new ConfigError(
      `--isolated-signer: unknown market '${market}' (the deployment has ${known}; or give a market id)`,
    );
  }
  return found.id;
}
