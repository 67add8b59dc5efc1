/**
 * SSH_FXP_INIT and SSH_FXP_VERSION (draft §4): the version handshake, the only packets without
 * a request id. Both may carry extension-name/extension-data pairs; OpenSSH's server lists its
 * extensions in VERSION with a version string as data (e.g. "statvfs@openssh.com" = "2").
 *
 * `decode*` take the body: the bytes after the type byte.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { PacketType, SFTP_VERSION } from "../constants.js";
import { finishPacket, readLossy, startPacket, u32 } from "./wire.js";

/** One extension pair; both sides are text in practice (names and version numbers). */
export interface ExtensionPair {
  name: string;
  data: string;
}

export interface InitPacket {
  type: typeof PacketType.INIT;
  version: number;
  extensions: ExtensionPair[];
}

export interface VersionPacket {
  type: typeof PacketType.VERSION;
  version: number;
  extensions: ExtensionPair[];
}

function encodeHello(type: number, version: number, extensions: readonly ExtensionPair[]): Uint8Array {
  const w = startPacket(type, undefined, 16);
  w.uint32(u32(version, "version"));
  for (const e of extensions) w.string(e.name).string(e.data);
  return finishPacket(w);
}

function decodeHello(body: Uint8Array, what: string): { version: number; extensions: ExtensionPair[] } {
  const r = new SshReader(body, what);
  const version = r.uint32();
  const extensions: ExtensionPair[] = [];
  while (r.remaining > 0) extensions.push({ name: readLossy(r), data: readLossy(r) });
  return { version, extensions };
}

/** Client → server: the version we speak (3) and optional extension pairs. */
export function encodeInit(version: number = SFTP_VERSION, extensions: readonly ExtensionPair[] = []): Uint8Array {
  return encodeHello(PacketType.INIT, version, extensions);
}

export function decodeInit(body: Uint8Array): InitPacket {
  return { type: PacketType.INIT, ...decodeHello(body, "SFTP INIT") };
}

/** Server → client: the version chosen and the extensions the server supports. */
export function encodeVersion(version: number = SFTP_VERSION, extensions: readonly ExtensionPair[] = []): Uint8Array {
  return encodeHello(PacketType.VERSION, version, extensions);
}

export function decodeVersion(body: Uint8Array): VersionPacket {
  return { type: PacketType.VERSION, ...decodeHello(body, "SFTP VERSION") };
}
