import { parseDeployment, type Deployment } from "#sdk";

/** Where the page runs: the deployment, a JSON-RPC URL for reads, and the relay (through the page's server). */
export interface AppConfig {
  deployment: Deployment;
  rpcUrl: string;
  /** Absolute URL of the relay, or undefined when none runs. */
  relayUrl: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fetches and checks `/config.json` (app/vite.config.ts serves it). Throws with a one-line reason. */
export async function loadConfig(base: string): Promise<AppConfig> {
  const response = await fetch(new URL("config.json", base));
  const json: unknown = await response.json();
  if (!isRecord(json)) throw new Error("config.json is not a JSON object");
  if (typeof json.error === "string") throw new Error(json.error);
  if (typeof json.rpcUrl !== "string") throw new Error("config.json: rpcUrl is missing");
  const relay = json.relayUrl;
  if (relay !== null && typeof relay !== "string") throw new Error("config.json: relayUrl is not a URL");
  return {
    deployment: parseDeployment("config.json", json.deployment),
    rpcUrl: json.rpcUrl,
    relayUrl: relay === null ? undefined : new URL(relay, base).href,
  };
}
