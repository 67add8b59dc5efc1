/**
 * One key exchange (RFC 4253 §7-8), for either role: negotiate, run the method, prove or check
 * the host key over H, derive the six keys (§7.2) and build the new cipher states. The transport
 * decides when the new states take effect (at NEWKEYS, §7.3).
 *
 * The roles differ only in three places, all here: which KEXINIT is the client's (I_C/I_S and
 * negotiation order), who signs H and who verifies it, and which key letters seal and which open
 * (the client seals with A/C/E and opens with B/D/F; the server the other way round).
 */
import { HostKeyError, ProtocolError } from "../../errors.js";
import { CIPHERS, MACS } from "../crypto/algorithms.js";
import type { CryptoBackend, PacketOpener, PacketSealer } from "../crypto/cipher.js";
import { cryptoSuite } from "../crypto/suite.js";
import type { ExchangeInputs, KexClientResult, KexIO, KexMethod } from "../kex/kex.js";
import { KEX_METHODS } from "../kex/methods.js";
import type { PrivateKey } from "../keys/private-key.js";
import { parsePublicKey, keyTypeForAlgorithm, type PublicKey } from "../keys/public-key.js";
import { deriveKey, type KeyLetter } from "./key-derivation.js";
import { negotiate, type KexInit, type Negotiated } from "./kexinit.js";
import { bytesEqual } from "../../util/bytes.js";

/** What the client role brings: a trust decision about the server's key. */
export interface ClientKexRole {
  role: "client";
  /** The host key of the first exchange; a re-exchange must present the same key. */
  previousHostKey: Uint8Array | undefined;
  /** Decides whether the host key is trusted; throws HostKeyError when not. */
  verifyHostKey(key: PublicKey): Promise<void>;
}

/** What the server role brings: its host keys, one of which signs H. */
export interface ServerKexRole {
  role: "server";
  hostKeys: readonly PrivateKey[];
}

export interface KexInput {
  clientVersion: string;
  serverVersion: string;
  ours: KexInit;
  oursPayload: Uint8Array;
  theirsPayload: Uint8Array;
  io: KexIO;
  backend: CryptoBackend;
  /** Set after the first exchange: it stays the session identifier for the connection (§7.2). */
  sessionId: Uint8Array | undefined;
  side: ClientKexRole | ServerKexRole;
}

export interface KexOutcome {
  negotiated: Negotiated;
  theirs: KexInit;
  sessionId: Uint8Array;
  /** The server's host key (for the server role, the public half of the key that signed). */
  hostKey: PublicKey;
  sealer: PacketSealer;
  opener: PacketOpener;
}

/** Runs the method after both KEXINITs are known. `theirs` is decoded by the caller. */
export async function runKex(input: KexInput, theirs: KexInit): Promise<KexOutcome> {
  const isClient = input.side.role === "client";
  const [client, server] = isClient ? [input.ours, theirs] : [theirs, input.ours];
  const negotiated = negotiate(client, server, (c) => CIPHERS[c]?.aead ?? false);
  const method = KEX_METHODS[negotiated.kex];
  if (!method) throw new ProtocolError(`negotiated unknown key exchange ${negotiated.kex}`);
  const inputs: ExchangeInputs = {
    clientVersion: input.clientVersion,
    serverVersion: input.serverVersion,
    clientKexInit: isClient ? input.oursPayload : input.theirsPayload,
    serverKexInit: isClient ? input.theirsPayload : input.oursPayload,
  };
  const side = input.side;
  const { sharedSecret, exchangeHash, hostKey } = side.role === "client"
    ? await clientMethod(method, input, inputs, negotiated, side)
    : await serverMethod(method, input, inputs, negotiated, side);

  const sessionId = input.sessionId ?? exchangeHash;
  const derive = (letter: KeyLetter, len: number) => deriveKey(method.hash, sharedSecret, exchangeHash, letter, sessionId, len);
  const direction = (cipherName: string, macName: string, letters: [KeyLetter, KeyLetter, KeyLetter]) => {
    const cipher = CIPHERS[cipherName]!;
    const mac = macName ? MACS[macName] : undefined;
    const keys = {
      iv: derive(letters[0], cipher.ivLength),
      key: derive(letters[1], cipher.keyLength),
      macKey: mac ? derive(letters[2], mac.keyLength) : new Uint8Array(0),
    };
    return { cipher, mac, keys };
  };
  const c2s = direction(negotiated.cipherC2S, negotiated.macC2S, ["A", "C", "E"]);
  const s2c = direction(negotiated.cipherS2C, negotiated.macS2C, ["B", "D", "F"]);
  const [out, inc] = isClient ? [c2s, s2c] : [s2c, c2s];
  try {
    const suite = await cryptoSuite(input.backend);
    return {
      negotiated,
      theirs,
      sessionId,
      hostKey,
      sealer: out.cipher.createSealer(out.keys, out.mac, suite),
      opener: inc.cipher.createOpener(inc.keys, inc.mac, suite),
    };
  } finally {
    // K and the six derived keys are needed no longer: the ciphers and MACs keep their own
    // copies or keyed state (a CipherAlgorithm must not keep a reference to DirectionKeys).
    sharedSecret.fill(0);
    for (const k of [c2s.keys, s2c.keys]) {
      k.iv.fill(0);
      k.key.fill(0);
      k.macKey.fill(0);
    }
  }
}

interface MethodResult {
  sharedSecret: Uint8Array;
  exchangeHash: Uint8Array;
  hostKey: PublicKey;
}

/** Client: run the method, then check the server's signature over H and trust its key. */
async function clientMethod(method: KexMethod, input: KexInput, inputs: ExchangeInputs, negotiated: Negotiated, side: ClientKexRole): Promise<MethodResult> {
  const result = await method.client(input.io, inputs);
  try {
    return await checkServer(result, input, negotiated, side);
  } catch (e) {
    result.sharedSecret.fill(0); // the exchange failed: K is of no further use
    throw e;
  }
}

/** The client's checks on the server's reply: host key type, signature over H, trust. */
async function checkServer(result: KexClientResult, input: KexInput, negotiated: Negotiated, side: ClientKexRole): Promise<MethodResult> {
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
  if (side.previousHostKey) {
    if (!bytesEqual(side.previousHostKey, result.hostKey)) {
      throw new HostKeyError("HOST_KEY_CHANGED", `the server presented a different host key during re-exchange (${hostKey.fingerprint})`,
        hostKey.fingerprint, hostKey.type);
    }
  } else {
    await side.verifyHostKey(hostKey);
  }
  return { sharedSecret: result.sharedSecret, exchangeHash: result.exchangeHash, hostKey };
}

/** Server: pick the host key for the negotiated algorithm and sign H with it inside the method. */
async function serverMethod(method: KexMethod, input: KexInput, inputs: ExchangeInputs, negotiated: Negotiated, side: ServerKexRole): Promise<MethodResult> {
  const alg = negotiated.serverHostKey;
  const key = side.hostKeys.find((k) => k.type === keyTypeForAlgorithm(alg));
  if (!key) throw new ProtocolError(`negotiated host key algorithm ${alg} but no such host key is loaded`, "KEX_NO_COMMON_ALGORITHM");
  const result = await method.server(input.io, inputs, {
    blob: key.publicKey.blob,
    sign: (h) => key.sign(alg, h, input.backend),
  });
  return { ...result, hostKey: key.publicKey };
}
