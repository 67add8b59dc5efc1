/**
 * ssh-ed25519 keys and signatures (RFC 8709 §4–§6): the public key is the 32-byte RFC 8032
 * encoding, the signature the 64-byte R || S. One signature algorithm, named like the key type.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { ProtocolError, SshError } from "../../errors.js";
import type { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { bytesEqual } from "./bigint.js";
import type { KeySigner } from "./key-common.js";
import type { KeyVerifier } from "./public-key.js";

export const ED25519 = "ssh-ed25519";
const ALGORITHMS = [ED25519] as const;

/** RFC 8709 §4 public key blob. */
export function ed25519PublicBlob(pub: Uint8Array): Uint8Array {
  return new SshWriter(51).string(ED25519).string(pub).finish().slice();
}

/** Reads the key body after the type name of a public key blob. */
export function readEd25519Public(r: SshReader): KeyVerifier {
  const pub = r.string();
  if (pub.length !== 32) throw new ProtocolError(`ssh-ed25519 public key is ${pub.length} bytes, not 32`);
  if (!ed25519.utils.isValidPublicKey(pub, false)) throw new ProtocolError("ssh-ed25519 public key is not a curve point");
  const key = pub.slice();
  return {
    algorithms: ALGORITHMS,
    async verify(_algorithm, sig, data) {
      // RFC 8709 §6: exactly 64 bytes; any other length is simply an invalid signature.
      if (sig.length !== 64) return false;
      try {
        // zip215: false = RFC 8032 §5.1.7 strict decoding (canonical R and A, S < L), which is
        // what honest signers produce; the looser ZIP-215 rules exist for consensus systems.
        return ed25519.verify(sig, data, key, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

function signer(seed: Uint8Array, pub: Uint8Array): KeySigner {
  return {
    algorithms: ALGORITHMS,
    publicBlob: ed25519PublicBlob(pub),
    async sign(_algorithm, data) {
      return ed25519.sign(data, seed);
    },
  };
}

/**
 * A signer from the 32-byte RFC 8032 seed. When the file also stores the public key, `pub` must
 * be what the seed derives, so a corrupted file can't sign with a wrong key.
 */
export function ed25519SignerFromSeed(seed: Uint8Array, pub?: Uint8Array): KeySigner {
  if (seed.length !== 32) throw new SshError("KEY_FORMAT", `ssh-ed25519 private key is ${seed.length} bytes, not 32`);
  const derived = ed25519.getPublicKey(seed);
  if (pub && !bytesEqual(derived, pub)) {
    throw new SshError("KEY_FORMAT", "corrupt ssh-ed25519 private key: public and private halves differ");
  }
  return signer(seed.slice(), derived);
}

/**
 * Reads the private fields of an openssh-key-v1 ed25519 key (PROTOCOL.key; OpenSSH's
 * sshkey_private_deserialize): string pub(32), string seed || pub (64). Checks the halves agree
 * and the seed really derives the public key.
 */
export function readEd25519Private(r: SshReader): KeySigner {
  const pub = r.string();
  const priv = r.string();
  if (pub.length !== 32 || priv.length !== 64) {
    throw new SshError("KEY_FORMAT", "malformed ssh-ed25519 private key: wrong field lengths");
  }
  if (!bytesEqual(priv.subarray(32), pub)) {
    throw new SshError("KEY_FORMAT", "corrupt ssh-ed25519 private key: public and private halves differ");
  }
  return ed25519SignerFromSeed(priv.subarray(0, 32), pub);
}

/** A fresh random ed25519 key (for tests and ephemeral use). */
export function generateEd25519Signer(): KeySigner {
  const { secretKey, publicKey } = ed25519.keygen();
  return signer(secretKey, publicKey);
}
