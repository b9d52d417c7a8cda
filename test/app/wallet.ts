import { Wallet, toQuantity, type JsonRpcProvider, type TypedDataField } from "ethers";
import type { Page } from "puppeteer-core";

/**
 * A test wallet injected into a page as `window.ethereum`: an EIP-1193 provider whose every request goes to
 * {@link TestWallet.handle} in Node through one exposed function. It signs with a dev key (eth_signTypedData_v4,
 * eth_sendTransaction), forwards every other call to the node, and can be told to be on another chain or to
 * reject the next request as a person would in MetaMask.
 */

export interface WalletReply {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  /** EIP-1193 events to emit in the page after this request (chainChanged after a switch). */
  events?: [string, unknown][];
}

/** EIP-1193 4001. */
const REJECTED = { code: 4001, message: "User rejected the request." };

export class TestWallet {
  readonly wallet: Wallet;
  chainId: number;
  connected = false;
  /** The next signing or sending request is rejected (4001), once. */
  rejectNext = false;
  /** Every method the page asked for, in order. */
  readonly requests: string[] = [];

  constructor(
    key: string,
    readonly rpcUrl: string,
    provider: JsonRpcProvider,
    chainId: number,
  ) {
    this.wallet = new Wallet(key, provider);
    this.chainId = chainId;
  }

  get address(): string {
    return this.wallet.address;
  }

  async handle(method: string, params: unknown[]): Promise<WalletReply> {
    this.requests.push(method);
    try {
      return await this.#handle(method, params);
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown; data?: unknown };
      return {
        error: {
          code: typeof e.code === "number" ? e.code : -32603,
          message: typeof e.message === "string" ? e.message : String(error),
          data: e.data,
        },
      };
    }
  }

  async #handle(method: string, params: unknown[]): Promise<WalletReply> {
    switch (method) {
      case "eth_requestAccounts":
        this.connected = true;
        return { result: [this.address] };
      case "eth_accounts":
        return { result: this.connected ? [this.address] : [] };
      case "eth_chainId":
        return { result: toQuantity(this.chainId) };
      case "wallet_switchEthereumChain": {
        const [{ chainId }] = params as [{ chainId: string }];
        this.chainId = Number(BigInt(chainId));
        return { result: null, events: [["chainChanged", chainId]] };
      }
      case "eth_signTypedData_v4": {
        if (this.#rejected()) return { error: REJECTED };
        const [, json] = params as [string, string];
        const typed = JSON.parse(json) as {
          domain: Record<string, unknown>;
          types: Record<string, TypedDataField[]>;
          message: Record<string, unknown>;
        };
        const { EIP712Domain: _, ...types } = typed.types;
        return { result: await this.wallet.signTypedData(typed.domain, types, typed.message) };
      }
      case "eth_sendTransaction": {
        if (this.#rejected()) return { error: REJECTED };
        const [tx] = params as [{ to?: string; data?: string; value?: string; gas?: string }];
        const sent = await this.wallet.sendTransaction({
          to: tx.to,
          data: tx.data,
          value: tx.value === undefined ? undefined : BigInt(tx.value),
          gasLimit: tx.gas === undefined ? undefined : BigInt(tx.gas),
        });
        return { result: sent.hash };
      }
      default:
        return forward(this.rpcUrl, method, params);
    }
  }

  #rejected(): boolean {
    const reject = this.rejectNext;
    this.rejectNext = false;
    return reject;
  }
}

/** One JSON-RPC call to the node, its error passed on with code and revert data as a wallet would. */
async function forward(url: string, method: string, params: unknown[]): Promise<WalletReply> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const reply = (await response.json()) as WalletReply;
  return reply.error !== undefined ? { error: reply.error } : { result: reply.result };
}

/** The page side: `window.ethereum` calling the exposed `__backstopWallet`. Runs before the page's own scripts. */
function installShim(): void {
  type Listener = (arg: unknown) => void;
  const listeners = new Map<string, Listener[]>();
  const bridge = (globalThis as unknown as Record<string, (m: string, p: unknown[]) => Promise<WalletReply>>)
    .__backstopWallet;
  (globalThis as unknown as { ethereum: unknown }).ethereum = {
    isBackstopTestWallet: true,
    async request({ method, params }: { method: string; params?: unknown[] }): Promise<unknown> {
      const reply = await bridge(method, params ?? []);
      for (const [event, arg] of reply.events ?? []) for (const l of listeners.get(event) ?? []) l(arg);
      if (reply.error !== undefined) {
        const error = new Error(reply.error.message) as Error & { code: number; data?: unknown };
        error.code = reply.error.code;
        error.data = reply.error.data;
        throw error;
      }
      return reply.result;
    },
    on(event: string, listener: Listener): void {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    },
    removeListener(event: string, listener: Listener): void {
      listeners.set(
        event,
        (listeners.get(event) ?? []).filter((l) => l !== listener),
      );
    },
  };
}

/** Injects `wallet` into `page` (before navigation). */
export async function injectWallet(page: Page, wallet: TestWallet): Promise<void> {
  await page.exposeFunction("__backstopWallet", (method: string, params: unknown[]) => wallet.handle(method, params));
  await page.evaluateOnNewDocument(installShim);
}
