import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import websocket from "@fastify/websocket";
import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import { isHexString } from "ethers";

import { InputError, bookEntryToJson, parsePostOrderBody, type ErrorReply, type RelayEventJson } from "#sdk";
import { Rejection } from "./checks.js";
import type { Relay } from "./relay.js";

export interface ServerOptions {
  relay: Relay;
  maxBodyBytes: number;
  postLimit: number;
  readLimit: number;
  rateWindowMs: number;
  logLevel: string;
}

/** A subscriber this far behind (bytes queued on its socket) is dropped rather than buffered without bound. */
const MAX_SOCKET_BACKLOG = 1 << 20;

function oneLine(text: string): string {
  return text.split("\n")[0].slice(0, 500);
}

function marketOf(raw: unknown): bigint {
  if (typeof raw !== "string" || !/^\d{1,20}$/.test(raw)) {
    throw new InputError(
      `market must be a market id (a whole number), got ${raw === undefined ? "none" : JSON.stringify(raw)}`,
    );
  }
  return BigInt(raw);
}

/** Fastify's own request errors, in the relay's words. */
function describeRequestError(error: FastifyError, maxBodyBytes: number): string {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return `body is larger than ${maxBodyBytes} bytes`;
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return "body is not valid JSON";
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "body is empty: send {order, signature} as JSON";
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "content-type must be application/json";
    default:
      return error.message;
  }
}

/**
 * The relay's HTTP and WebSocket server (the API in sdk/relay.ts). Every error answer is `{error}` with one
 * line; request bodies are bounded (413), rates are bounded per IP (429), and any origin may call it, as it
 * holds no credentials.
 */
export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const { relay } = o;
  // One line per order accepted or refused instead of two per request.
  const app = Fastify({
    logger: { level: o.logLevel },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.maxBodyBytes,
  });
  // JSON only: a text/plain body would otherwise reach the handler as a string.
  app.removeContentTypeParser("text/plain");
  await app.register(cors, { origin: "*" });
  await app.register(rateLimit, {
    global: true,
    max: o.readLimit,
    timeWindow: o.rateWindowMs,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`too many requests from this address: at most ${context.max} per ${context.after}`), {
        statusCode: 429,
      }),
  });
  await app.register(websocket, { options: { maxPayload: 1024 } });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      error instanceof Rejection ? error.status : error instanceof InputError ? 400 : (error.statusCode ?? 500);
    const internal = status >= 500 && !(error instanceof Rejection);
    const body: ErrorReply = {
      error: oneLine(internal ? "internal error" : describeRequestError(error, o.maxBodyBytes)),
    };
    if (internal) request.log.error({ err: error }, "request failed");
    else request.log.info({ url: request.url, status, reason: body.error }, "refused");
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorReply = { error: `no route ${request.method} ${request.url.split("?")[0]}` };
    return reply.code(404).send(body);
  });

  app.post(
    "/orders",
    { config: { rateLimit: { max: o.postLimit, timeWindow: o.rateWindowMs } } },
    async (request, reply) => {
      const { order, signature } = parsePostOrderBody(request.body);
      const hash = await relay.post(order, signature);
      request.log.info({ hash, maker: order.maker, marketId: order.marketId.toString() }, "order accepted");
      return reply.code(201).send({ hash });
    },
  );

  app.get("/orders", async (request) => {
    const { market } = request.query as Record<string, unknown>;
    return relay.book(marketOf(market));
  });

  app.get("/orders/:hash", async (request, reply) => {
    const { hash } = request.params as { hash: string };
    if (!isHexString(hash, 32)) throw new InputError(`order hash must be 32 bytes of hex, got ${JSON.stringify(hash)}`);
    const entry = await relay.order(hash);
    if (entry === undefined) {
      const body: ErrorReply = {
        error: `no order ${hash} in the book (never posted, or filled, cancelled or expired)`,
      };
      return reply.code(404).send(body);
    }
    return bookEntryToJson(entry);
  });

  app.get("/health", async (_request, reply) => {
    const health = await relay.health();
    return reply.code(health.ok ? 200 : 503).send(health);
  });

  app.get("/ws", { websocket: true }, (socket, request) => {
    let marketId: bigint;
    try {
      marketId = marketOf((request.query as Record<string, unknown>).market);
    } catch (error) {
      socket.send(JSON.stringify({ error: (error as Error).message }));
      socket.close(1008, "bad market");
      return;
    }
    const send = (event: RelayEventJson) => {
      if (socket.bufferedAmount > MAX_SOCKET_BACKLOG) socket.terminate();
      else socket.send(JSON.stringify(event));
    };
    const stop = relay.listen(marketId, send);
    socket.on("close", stop);
    // Clients send nothing; anything they do send is ignored (and bounded by maxPayload).
    send({ type: "subscribed", marketId: marketId.toString() });
  });

  return app;
}
