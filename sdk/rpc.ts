import { FetchRequest, JsonRpcProvider, Network, type JsonRpcApiProvider, type JsonRpcPayload } from "ethers";

import type { Metrics } from "./metrics.js";

type Send = JsonRpcApiProvider["_send"];

// Per provider, the metrics its requests are counted in. A WeakMap instead of a field on the provider keeps
// the patch visible in one place and lets a provider be shared (each keeper then counts the shared traffic).
const counted = new WeakMap<JsonRpcApiProvider, Set<Metrics>>();

/**
 * Counts every JSON-RPC request the provider sends, by method, including those inside a batch and those its
 * signers send through it. Idempotent per (provider, metrics).
 */
export function instrumentProvider(provider: JsonRpcApiProvider, metrics: Metrics): void {
  const existing = counted.get(provider);
  if (existing !== undefined) {
    existing.add(metrics);
    return;
  }
  const sinks = new Set([metrics]);
  counted.set(provider, sinks);
  const original: Send = provider._send.bind(provider);
  const wrapped: Send = (payload: JsonRpcPayload | JsonRpcPayload[]) => {
    for (const request of Array.isArray(payload) ? payload : [payload]) {
      for (const sink of sinks) sink.rpcCalls.inc({ method: request.method });
    }
    return original(payload);
  };
  provider._send = wrapped;
}

export interface ProviderOptions {
  chainId: number;
  metrics: Metrics;
  /** Per-request timeout; a node that accepts connections but does not answer must not stall the loop. */
  timeoutMs?: number;
}

/**
 * A JSON-RPC provider for the keeper: static network (no background chain-id probing, no retry chatter on
 * stderr when the node is down), no result cache, short request timeout, every request counted.
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
  instrumentProvider(provider, options.metrics);
  return provider;
}
