/**
 * "lsetstat@openssh.com" (OpenSSH PROTOCOL §4.7): SETSTAT that does not follow symlinks.
 * Request: string path, ATTRS attrs. Reply: STATUS.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { type Attrs, readAttrs, writeAttrs } from "../attrs.js";
import { buildExtended } from "../packets/extended.js";
import { pathFields } from "../packets/path.js";
import { readText, wireString } from "../packets/wire.js";

export const LSETSTAT = "lsetstat@openssh.com";

export interface LsetstatRequest {
  path: string;
  pathBytes?: Uint8Array;
  attrs: Attrs;
}

export function encodeLsetstatRequest(id: number, f: LsetstatRequest): Uint8Array {
  const path = wireString(f.path, f.pathBytes);
  return buildExtended(
    id,
    LSETSTAT,
    (w) => {
      w.string(path);
      writeAttrs(w, f.attrs);
    },
    40 + path.length,
  );
}

export function decodeLsetstatRequest(data: Uint8Array): LsetstatRequest {
  const r = new SshReader(data, LSETSTAT);
  const path = readText(r);
  const attrs = readAttrs(r);
  r.end();
  return { ...pathFields(path), attrs };
}
