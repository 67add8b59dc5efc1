/**
 * Every fuzz target, in the order a full run takes them: pure decoders first, then the ones
 * that drive protocol state, then key material and the file-system-backed SFTP server.
 */
import type { FuzzTarget } from "../engine.js";
import { targets as agent } from "./agent.js";
import { targets as auth } from "./auth.js";
import { targets as connection } from "./connection.js";
import { targets as framer } from "./framer.js";
import { targets as kex } from "./kex.js";
import { targets as keys } from "./keys.js";
import { targets as sftp } from "./sftp.js";
import { targets as sftpServer } from "./sftp-server.js";
import { targets as text } from "./text.js";
import { targets as transport } from "./transport.js";
import { targets as wire } from "./wire.js";

export const ALL_TARGETS: readonly FuzzTarget[] = [
  ...wire, ...transport, ...sftp, ...framer, ...text, ...agent, ...auth, ...connection, ...kex, ...keys, ...sftpServer,
];
