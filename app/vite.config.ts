import { readFileSync } from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * The page is built once and told where it runs at load time: it fetches `/config.json`, which this plugin
 * serves from the file named by BACKSTOP_APP_CONFIG (`{rpcUrl, relayUrl, deployment}`, written by
 * `npm run app` and the browser tests). The relay is reached through the page's own server under `/relay`
 * (same origin, so the relay needs no CORS headers); the JSON-RPC URL is used as given (nodes answer CORS).
 */
export const CONFIG_ENV = "BACKSTOP_APP_CONFIG";

const ROOT = path.dirname(new URL(import.meta.url).pathname);
const REPO = path.resolve(ROOT, "..");

interface LaunchConfig {
  rpcUrl: string;
  relayUrl: string | null;
  deployment: unknown;
}

function readLaunchConfig(): LaunchConfig | undefined {
  const file = process.env[CONFIG_ENV];
  if (file === undefined || file === "") return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as LaunchConfig;
}

function serveConfig(): Plugin {
  const handle = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.url !== "/config.json") return next();
    const config = readLaunchConfig();
    res.setHeader("content-type", "application/json");
    res.setHeader("cache-control", "no-store");
    if (config === undefined) {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: `no ${CONFIG_ENV}: start the page with npm run app` }));
      return;
    }
    res.end(JSON.stringify({ ...config, relayUrl: config.relayUrl === null ? null : "/relay" }));
  };
  return {
    name: "backstop-config",
    configureServer: (server) => void server.middlewares.use(handle),
    configurePreviewServer: (server) => void server.middlewares.use(handle),
  };
}

/** `/relay/...` → the relay, HTTP and WebSocket alike. */
function relayProxy() {
  const target = readLaunchConfig()?.relayUrl;
  if (target === undefined || target === null) return undefined;
  return {
    "/relay": { target, ws: true, changeOrigin: true, rewrite: (p: string) => p.replace(/^\/relay/, "") },
  };
}

export default defineConfig(() => ({
  root: ROOT,
  // The bundle is served from wherever the preview or a static host puts it.
  base: "./",
  plugins: [react(), serveConfig()],
  server: { fs: { allow: [REPO] }, proxy: relayProxy(), strictPort: true },
  preview: { proxy: relayProxy(), strictPort: true },
  build: { outDir: path.join(REPO, "results", "app", "dist"), emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  logLevel: "warn" as const,
}));
