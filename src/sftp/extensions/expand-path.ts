/**
 * "expand-path@openssh.com" (OpenSSH PROTOCOL §4.9): REALPATH that also expands a leading "~"
 * or "~user". Request: string path. Reply: NAME with one entry, as REALPATH.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended } from "../packets/extended.js";
import { pathFields } from "../packets/path.js";
import { readText, wireString } from "../packets/wire.js";

export const EXPAND_PATH = "expand-path@openssh.com";

export interface ExpandPathRequest {
  path: string;
  pathBytes?: Uint8Array;
}

export function encodeExpandPathRequest(id: number, f: ExpandPathRequest): Uint8Array {
  const path = wireString(f.path, f.pathBytes);
  return buildExtended(id, EXPAND_PATH, (w) => w.string(path), 4 + path.length);
}

export function decodeExpandPathRequest(data: Uint8Array): ExpandPathRequest {
  const r = new SshReader(data, EXPAND_PATH);
  const path = readText(r);
  r.end();
  return pathFields(path);
}
