import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";

import { freePort } from "./node.js";

/**
 * A TCP proxy on 127.0.0.1 in front of a node, to make the node disappear for a client and come back with its
 * chain state intact. While closed, connections are refused (nothing listens on the port) and the connections
 * that were open are reset, as when a node process dies.
 */
export interface TcpProxy {
  /** http://127.0.0.1:<port>, stable across close() and open(). */
  url: string;
  port: number;
  isOpen(): boolean;
  /** Connections currently piped through. */
  connections(): number;
  /** Listens again on the same port. No-op when open. */
  open(): Promise<void>;
  /** Stops listening and destroys every piped connection. No-op when closed. */
  close(): Promise<void>;
}

/** Starts an open proxy from a free loopback port to `target` (an http URL such as the node's). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const targetHost = hostname === "localhost" ? "127.0.0.1" : hostname;
  const targetPortNumber = Number(targetPort === "" ? 80 : targetPort);
  const port = await freePort();
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let server: Server | undefined;

  const pipe = (client: Socket): void => {
    const upstream = connect(targetPortNumber, targetHost);
    clients.add(client);
    client.on("close", () => clients.delete(client));
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      // Either end failing takes the other down, as a dropped link would.
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const open = async (): Promise<void> => {
    if (server !== undefined) return;
    const listening = createServer(pipe);
    // The port was ours a moment ago, but the kernel may still hold it briefly after close().
    for (let attempt = 0; ; ++attempt) {
      try {
        await new Promise<void>((resolve, reject) => {
          listening.once("error", reject);
          listening.listen(port, "127.0.0.1", () => {
            listening.off("error", reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if (attempt >= 20 || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    server = listening;
  };

  const close = async (): Promise<void> => {
    const listening = server;
    if (listening === undefined) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    clients.clear();
    await closed;
  };

  await open();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    isOpen: () => server !== undefined,
    connections: () => clients.size,
    open,
    close,
  };
}
