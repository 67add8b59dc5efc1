/**
 * pure-sftp: an SSH-2 client in TypeScript on audited noble crypto, with SFTP and an ftrack
 * accessor on top. Runs unchanged on Node, Deno and Bun.
 */
export * from "./ssh/index.js";
export * from "./sftp/index.js";
export * from "./accessor/index.js";
