import { FetchRequest, JsonRpcProvider, Network, type JsonRpcApiProvider, type JsonRpcPayload } from "ethers";

import { InputError } from "./errors.js";

type Send = JsonRpcApiProvider["_send"];

/** Told the method of every JSON-RPC request a provider sends. */
export type RequestHook = (method: string) => void;

// Per provider, the hooks its requests are reported to. A WeakMap instead of a field on the provider keeps
// the patch visible in one place and lets a provider be shared (each user then sees the shared traffic).
const observed = new WeakMap<JsonRpcApiProvider, Set<RequestHook>>();

/**
 * Reports every JSON-RPC request the provider sends to `hook`, by method, including those inside a batch and
 * those its signers send through it. Idempotent per (provider, hook).
 */
export function observeRequests(provider: JsonRpcApiProvider, hook: RequestHook): void {
  const existing = observed.get(provider);
  if (existing !== undefined) {
    existing.add(hook);
    return;
  }
  const hooks = new Set([hook]);
  observed.set(provider, hooks);
  const original: Send = provider._send.bind(provider);
  const wrapped: Send = (payload: JsonRpcPayload | JsonRpcPayload[]) => {
    for (const request of Array.isArray(payload) ? payload : [payload]) {
      for (const h of hooks) h(request.method);
    }
    return original(payload);
  };
  provider._send = wrapped;
}

export interface ProviderOptions {
  chainId: number;
  /** Per-request timeout; a node that accepts connections but does not answer must not stall the loop. */
  timeoutMs?: number;
  /** Told of every request (the keeper counts them in its metrics). */
  onRequest?: RequestHook;
}

/**
 * A JSON-RPC provider for every tool: static network (no background chain-id probing, no retry chatter on
 * stderr when the node is down), no result cache, short request timeout, every request shown to `onRequest`.
 */
export function createProvider(url: string, options: ProviderOptions): JsonRpcProvider {
  const request = new FetchRequest(url);
  request.timeout = options.timeoutMs ?? 15_000;
  // No result cache: ethers reuses answers for 250 ms by default, which hands out a stale `pending` nonce
  // right after a send and a stale head while polling.
  const provider = new JsonRpcProvider(request, Network.from(options.chainId), {
    staticNetwork: true,
    batchMaxCount: 20,
    cacheTimeout: -1,
  });
  if (options.onRequest !== undefined) observeRequests(provider, options.onRequest);
  return provider;
}

/** Checks that `raw` is an http(s) URL; the keeper and the trader CLI both take it from `--rpc`. */
export function parseRpcUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`--rpc is not a valid URL: '${raw}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(`--rpc must be an http(s) URL, got '${url.protocol}'`);
  }
  return raw;
}
