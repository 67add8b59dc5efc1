/**
 * One client-side key exchange (RFC 4253 §7-8): negotiate, run the method, check the host key
 * and its signature over H, derive the six keys (§7.2) and build the new cipher states. The
 * transport decides when the new states take effect (at NEWKEYS, §7.3).
 */
import { HostKeyError, ProtocolError } from "../../errors.js";
import { CIPHERS, MACS } from "../crypto/algorithms.js";
import type { CryptoBackend, PacketOpener, PacketSealer } from "../crypto/cipher.js";
import type { KexIO } from "../kex/kex.js";
import { KEX_METHODS } from "../kex/methods.js";
import { parsePublicKey, keyTypeForAlgorithm, type PublicKey } from "../keys/public-key.js";
import { deriveKey } from "./key-derivation.js";
import { negotiate, type KexInit, type Negotiated } from "./kexinit.js";
import { bytesEqual } from "../../util/bytes.js";

export interface ClientKexInput {
  clientVersion: string;
  serverVersion: string;
  ours: KexInit;
  oursPayload: Uint8Array;
  theirsPayload: Uint8Array;
  io: KexIO;
  backend: CryptoBackend;
  /** Set after the first exchange: it stays the session identifier for the connection (§7.2). */
  sessionId: Uint8Array | undefined;
  /** The host key of the first exchange; a re-exchange must present the same key. */
  previousHostKey: Uint8Array | undefined;
  /** Decides whether the host key is trusted; throws HostKeyError when not. */
  verifyHostKey(key: PublicKey): Promise<void>;
}

export interface KexOutcome {
  negotiated: Negotiated;
  theirs: KexInit;
  sessionId: Uint8Array;
  hostKey: PublicKey;
  sealer: PacketSealer;
  opener: PacketOpener;
}

/** Runs the method after both KEXINITs are known. `theirs` is decoded by the caller. */
export async function runClientKex(input: ClientKexInput, theirs: KexInit): Promise<KexOutcome> {
  const negotiated = negotiate(input.ours, theirs, (c) => CIPHERS[c]?.aead ?? false);
  const method = KEX_METHODS[negotiated.kex];
  if (!method) throw new ProtocolError(`negotiated unknown key exchange ${negotiated.kex}`);
  const result = await method.client(input.io, {
    clientVersion: input.clientVersion,
    serverVersion: input.serverVersion,
    clientKexInit: input.oursPayload,
    serverKexInit: input.theirsPayload,
  });

  const hostKey = parsePublicKey(result.hostKey);
  if (hostKey.type !== keyTypeForAlgorithm(negotiated.serverHostKey)) {
    throw new ProtocolError(`server sent a ${hostKey.type} host key for algorithm ${negotiated.serverHostKey}`);
  }
  // Verify the signature before asking the trust policy: a key the server cannot sign with
  // proves nothing, and the user must not be asked about it.
  if (!(await hostKey.verify(negotiated.serverHostKey, result.signature, result.exchangeHash, input.backend))) {
    throw new HostKeyError("HOST_KEY_BAD_SIGNATURE",
      `the server's ${negotiated.serverHostKey} signature over the exchange hash is invalid (key ${hostKey.fingerprint})`,
      hostKey.fingerprint, hostKey.type);
  }
  if (input.previousHostKey) {
    if (!bytesEqual(input.previousHostKey, result.hostKey)) {
      throw new HostKeyError("HOST_KEY_CHANGED", `the server presented a different host key during re-exchange (${hostKey.fingerprint})`,
        hostKey.fingerprint, hostKey.type);
    }
  } else {
    await input.verifyHostKey(hostKey);
  }

  const sessionId = input.sessionId ?? result.exchangeHash;
  const derive = (letter: "A" | "B" | "C" | "D" | "E" | "F", len: number) =>
    deriveKey(method.hash, result.sharedSecret, result.exchangeHash, letter, sessionId, len);
  const direction = (cipherName: string, macName: string, letters: ["A" | "B", "C" | "D", "E" | "F"]) => {
    const cipher = CIPHERS[cipherName]!;
    const mac = macName ? MACS[macName] : undefined;
    const keys = {
      iv: derive(letters[0], cipher.ivLength),
      key: derive(letters[1], cipher.keyLength),
      macKey: mac ? derive(letters[2], mac.keyLength) : new Uint8Array(0),
    };
    return { cipher, mac, keys };
  };
  const out = direction(negotiated.cipherC2S, negotiated.macC2S, ["A", "C", "E"]);
  const inc = direction(negotiated.cipherS2C, negotiated.macS2C, ["B", "D", "F"]);
  return {
    negotiated,
    theirs,
    sessionId,
    hostKey,
    sealer: out.cipher.createSealer(out.keys, out.mac, input.backend),
    opener: inc.cipher.createOpener(inc.keys, inc.mac, input.backend),
  };
}

