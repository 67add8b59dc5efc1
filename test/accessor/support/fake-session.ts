/**
 * Test doubles for an @ftrack/api Session:
 * - `FakeSession`: a plain object with query/create/update/delete over FtrackMemory, results
 *   shaped like @ftrack/api's (`{ action, data }`), errors like its ServerError.
 * - `startFtrackServer()`: an HTTP server speaking the JSON API at /api (query, create, update,
 *   delete, query_schemas, query_server_information) over FtrackMemory, so the real
 *   `@ftrack/api` Session can be used unchanged.
 * - `FakeEventHub`: subscribe/unsubscribe/publish in-process, replying like @ftrack/api's hub.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventHubLike, FtrackEvent, SessionLike } from "../../../src/accessor/ftrack.js";
import { FtrackError, FtrackMemory } from "./ftrack-memory.js";

export class FakeServerError extends Error {
  constructor(readonly errorCode: string, message: string) {
    super(message);
    this.name = "ServerError";
  }
}

function wrap<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(structuredClone(fn()));
  } catch (e) {
    return Promise.reject(e instanceof FtrackError ? new FakeServerError(e.exception, e.message) : e);
  }
}

export class FakeEventHub implements EventHubLike {
  private subscribers = new Map<string, { topic: string; callback: (e: FtrackEvent) => unknown }>();
  private n = 0;
  readonly replies: { to: FtrackEvent; data: unknown }[] = [];

  subscribe(subscription: string, callback: (e: FtrackEvent) => unknown): string {
    const m = /^topic[ ]?=[ '"]?([\w-,./*@+]+)['"]?$/.exec(subscription.trim());
    if (!m) throw new Error('Only subscriptions on the format "topic=value" are supported.');
    const id = `sub-${++this.n}`;
    this.subscribers.set(id, { topic: m[1]!, callback });
    return id;
  }

  unsubscribe(id: string): boolean {
    return this.subscribers.delete(id);
  }

  /** Delivers an event to matching subscribers; resolves with their non-null replies. */
  async publish(event: FtrackEvent): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const s of this.subscribers.values()) {
      const hit = s.topic.endsWith("*") ? event.topic.startsWith(s.topic.slice(0, -1)) : s.topic === event.topic;
      if (!hit) continue;
      const reply = await s.callback(event);
      if (reply != null) {
        this.replies.push({ to: event, data: reply });
        out.push(reply);
      }
    }
    return out;
  }

  get count(): number {
    return this.subscribers.size;
  }
}

export class FakeSession implements SessionLike {
  readonly memory: FtrackMemory;
  readonly eventHub = new FakeEventHub();
  apiUser = "api.user";
  schemas: Record<string, unknown>[];

  constructor(memory = new FtrackMemory()) {
    this.memory = memory;
    this.schemas = memory.schemas();
  }

  query(expression: string) {
    return wrap(() => this.memory.query(expression));
  }
  create(entityType: string, data: Record<string, unknown>) {
    return wrap(() => this.memory.create(entityType, data));
  }
  update(entityType: string, keys: string[] | string, data: Record<string, unknown>) {
    return wrap(() => this.memory.update(entityType, keys, data));
  }
  delete(entityType: string, keys: string[] | string) {
    return wrap(() => this.memory.delete(entityType, keys));
  }
}

export interface FtrackServer {
  url: string;
  memory: FtrackMemory;
  /** Requests received: the operations of each POST /api. */
  requests: Record<string, unknown>[][];
  close(): Promise<void>;
}

export interface FtrackServerOptions {
  /** More JSON API actions (e.g. get_upload_metadata), by name. */
  actions?: Record<string, (op: Record<string, unknown>) => unknown>;
  /** Handles a request before the /api endpoint does; returns true when it answered. */
  route?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean;
}

/** Starts the JSON API server on 127.0.0.1 (random port). */
export async function startFtrackServer(memory = new FtrackMemory(), options: FtrackServerOptions = {}): Promise<FtrackServer> {
  const requests: Record<string, unknown>[][] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (options.route?.(req, res, Buffer.concat(chunks))) return;
      if (req.method !== "POST" || req.url !== "/api") return send(404, { exception: "NotFound", content: `${req.method} ${req.url}` });
      if (!req.headers["ftrack-api-key"] || !req.headers["ftrack-user"]) return send(401, { exception: "FTAuthenticationError", content: "missing credentials" });
      let ops: Record<string, unknown>[];
      try {
        ops = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (!Array.isArray(ops)) throw new Error("expected a list of operations");
      } catch (e) {
        return send(200, { exception: "ValidationError", content: (e as Error).message });
      }
      requests.push(ops);
      try {
        send(200, ops.map((op) => options.actions?.[String(op.action)]?.(op) ?? memory.handle(op)));
      } catch (e) {
        const err = e instanceof FtrackError ? e : new FtrackError("ServerError", String((e as Error)?.message ?? e));
        send(200, { exception: err.exception, content: err.message, error_code: null });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    memory,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // fetch keeps its connection alive; Node's close() drops idle ones itself, Deno's waits for
      // them to time out (minutes) unless told.
      server.closeAllConnections();
    }),
  };
}
