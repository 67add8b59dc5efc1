/** Key fingerprints as OpenSSH prints them (`ssh-keygen -lf`, known_hosts prompts). */
import { sha256 } from "@noble/hashes/sha2.js";
import { encodeBase64 } from "../wire/base64.js";

/**
 * `SHA256:` followed by the unpadded base64 of SHA-256 over the public key blob (RFC 4253 §6.6
 * encoding), the default fingerprint of OpenSSH ≥ 6.8.
 */
export function fingerprintSha256(blob: Uint8Array): string {
  return "SHA256:" + encodeBase64(sha256(blob)).replace(/=+$/, "");
}
