/**
 * "home-directory" (OpenSSH PROTOCOL §4.11, from draft-ietf-secsh-filexfer-extensions-00 §5):
 * the home directory of `username`, or of the logged-in user when it is "".
 * Request: string username. Reply: NAME with one entry, as REALPATH.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended } from "../packets/extended.js";
import { readLossy } from "../packets/wire.js";

export const HOME_DIRECTORY = "home-directory";

export interface HomeDirectoryRequest {
  username: string;
}

export function encodeHomeDirectoryRequest(id: number, f: HomeDirectoryRequest): Uint8Array {
  return buildExtended(id, HOME_DIRECTORY, (w) => w.string(f.username), 4 + f.username.length * 3);
}

export function decodeHomeDirectoryRequest(data: Uint8Array): HomeDirectoryRequest {
  const r = new SshReader(data, HOME_DIRECTORY);
  const username = readLossy(r);
  r.end();
  return { username };
}
