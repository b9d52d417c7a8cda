import { BrowserProvider, toQuantity, type JsonRpcSigner } from "ethers";

/**
 * The injected EIP-1193 wallet (MetaMask and the like, or the browser tests' wallet): accounts, chain, and the
 * signer the page sends transactions and signs orders with. Reads never go through it (see chain.ts).
 */

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
  }
}

/** EIP-1193 "user rejected the request". */
export const USER_REJECTED = 4001;
/** EIP-3326: the wallet does not know the chain; add it first. */
export const UNKNOWN_CHAIN = 4902;

export type WalletState =
  | { kind: "missing" }
  | { kind: "disconnected" }
  | { kind: "wrong-chain"; account: string; chainId: number }
  | { kind: "connected"; account: string; chainId: number };

export const injected = (): Eip1193Provider | undefined => window.ethereum;

/** What the wallet reports now, without asking the user anything (`eth_accounts`, not `eth_requestAccounts`). */
export async function readWallet(wallet: Eip1193Provider | undefined, expectedChainId: number): Promise<WalletState> {
  if (wallet === undefined) return { kind: "missing" };
  const accounts = (await wallet.request({ method: "eth_accounts" })) as string[];
  if (accounts.length === 0) return { kind: "disconnected" };
  return stateOf(
    accounts[0],
    Number(BigInt((await wallet.request({ method: "eth_chainId" })) as string)),
    expectedChainId,
  );
}

function stateOf(account: string, chainId: number, expected: number): WalletState {
  return chainId === expected ? { kind: "connected", account, chainId } : { kind: "wrong-chain", account, chainId };
}

/** Asks the wallet for an account (`eth_requestAccounts`): the user approves the connection in the wallet. */
export async function connectWallet(wallet: Eip1193Provider, expectedChainId: number): Promise<WalletState> {
  const accounts = (await wallet.request({ method: "eth_requestAccounts" })) as string[];
  if (accounts.length === 0) return { kind: "disconnected" };
  const chainId = Number(BigInt((await wallet.request({ method: "eth_chainId" })) as string));
  return stateOf(accounts[0], chainId, expectedChainId);
}

/**
 * Asks the wallet to switch to the deployment's chain (`wallet_switchEthereumChain`); a wallet that does not
 * know the chain is asked to add it with the page's JSON-RPC URL (`wallet_addEthereumChain`).
 */
export async function switchChain(wallet: Eip1193Provider, chainId: number, rpcUrl: string): Promise<void> {
  const hex = toQuantity(chainId);
  try {
    await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hex }] });
  } catch (error) {
    if (rpcCode(error) !== UNKNOWN_CHAIN) throw error;
    await wallet.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId: hex,
          chainName: `Backstop (chain ${chainId})`,
          rpcUrls: [rpcUrl],
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        },
      ],
    });
  }
}

/** A signer for `account` through the wallet: transactions go out with eth_sendTransaction, orders with eth_signTypedData_v4. */
export async function walletSigner(wallet: Eip1193Provider, account: string): Promise<JsonRpcSigner> {
  return new BrowserProvider(wallet).getSigner(account);
}

/** The EIP-1193 error code of a wallet error, wherever ethers put it. */
export function rpcCode(error: unknown, depth = 0): number | undefined {
  if (depth > 4 || typeof error !== "object" || error === null) return undefined;
  const record = error as Record<string, unknown>;
  if (typeof record.code === "number") return record.code;
  for (const key of ["error", "info", "cause"]) {
    const code = rpcCode(record[key], depth + 1);
    if (code !== undefined) return code;
  }
  return undefined;
}

/** The user said no in the wallet (EIP-1193 4001; ethers calls it ACTION_REJECTED). */
export function isRejection(error: unknown): boolean {
  return rpcCode(error) === USER_REJECTED || (error as { code?: unknown } | null)?.code === "ACTION_REJECTED";
}
