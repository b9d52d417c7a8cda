import { createServer, type Server } from "node:http";

import type { Metrics } from "./metrics.js";

/** What /health reports; `ok` decides between 200 and 503. */
export interface HealthStatus {
  ok: boolean;
  running: boolean;
  /** Last block indexed. */
  lastBlock: number;
  /** Head block at the last successful loop iteration. */
  head: number;
  /** Seconds since the head last advanced (`null` before the first block). */
  blockAgeS: number | null;
  /** Seconds since the last loop iteration that completed without error. */
  loopAgeS: number | null;
  staleAfterS: number;
  blockStaleAfterS: number;
  accounts: number;
  liquidatable: number;
  openCases: number;
  inFlight: number;
  lastError?: string;
}

export interface HealthSource {
  status(): HealthStatus;
}

export interface HealthServerOptions {
  host: string;
  port: number;
}

/**
 * Serves `/health` (200 with the status as JSON, 503 when the loop or the blocks are stale) and `/metrics`
 * (Prometheus text). Returns the server at once, listening in progress; `await listening(server)` to know it is
 * bound (and, with `port: 0`, on which port: `server.address()`). A bind error is emitted as `error`.
 */
export function startHealthServer(keeper: HealthSource, metrics: Metrics, options: HealthServerOptions): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/health") {
      const status = keeper.status();
      res.writeHead(status.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(status));
      return;
    }
    if (path === "/metrics") {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(error));
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  // Keep-alive sockets from scrapers must not hold the process open at shutdown.
  server.keepAliveTimeout = 1000;
  server.listen(options.port, options.host);
  return server;
}

/** Resolves once the server is bound; rejects with the bind error (port in use, …). */
export function listening(server: Server): Promise<void> {
  if (server.listening) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
  });
}
