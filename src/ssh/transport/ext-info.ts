/**
 * SSH_MSG_EXT_INFO (RFC 8308 §2.3): a list of extension name/value pairs. The server sends it
 * right after its first NEWKEYS when the client offered "ext-info-c"; the only extension this
 * library acts on is server-sig-algs (§3.1), the signature algorithms accepted for user auth.
 */
import { MSG } from "../messages.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";

export const SERVER_SIG_ALGS = "server-sig-algs";

export function encodeExtInfo(extensions: ReadonlyMap<string, string>): Uint8Array {
  const w = new SshWriter(128).byte(MSG.EXT_INFO).uint32(extensions.size);
  for (const [name, value] of extensions) w.string(name).string(value);
  return w.finish().slice();
}

/** Decodes EXT_INFO; values are kept as bytes (the RFC allows binary values). */
export function decodeExtInfo(payload: Uint8Array): Map<string, Uint8Array> {
  const r = new SshReader(payload, "EXT_INFO");
  r.byte();
  const n = r.uint32();
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const name = r.ascii();
    out.set(name, r.string());
  }
  return out;
}
