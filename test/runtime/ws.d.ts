/**
 * The part of the `ws` package (a devDependency, for examples/websocket-bridge.ts and its test)
 * that they use: `ws` ships no types and @types/ws is not a dependency.
 */
declare module "ws" {
  import type { EventEmitter } from "node:events";
  import type { Duplex } from "node:stream";
  import type { AddressInfo } from "node:net";

  export class WebSocket extends EventEmitter {
    constructor(url: string | URL);
  }
  export class WebSocketServer extends EventEmitter {
    constructor(options: { port: number; host?: string | undefined });
    clients: Set<WebSocket>;
    address(): AddressInfo;
    close(callback?: (err?: Error) => void): void;
    on(event: "connection", listener: (ws: WebSocket) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  export function createWebSocketStream(ws: WebSocket): Duplex;
}
