/**
 * The seam between the transport's key-exchange driver and the key-exchange methods
 * (RFC 4253 §7-8, RFC 5656 §4, RFC 8731, RFC 4419, RFC 9142, OpenSSH mlkem768x25519-sha256).
 * A method exchanges its own messages (numbers 30-49) through a KexIO and returns the shared
 * secret and exchange hash; the driver then checks the host key signature and derives keys.
 * The same method objects serve the client and the server role.
 */

/** The messages a method sends and receives during one exchange. */
export interface KexIO {
  /** Sends one message payload (its first byte is the message number). */
  send(payload: Uint8Array): void;
  /** Resolves with the next key-exchange message payload from the peer (numbers 30-49). */
  receive(): Promise<Uint8Array>;
}

/** The four values every exchange hash starts with (RFC 4253 §8). */
export interface ExchangeInputs {
  /** V_C and V_S: the identification strings without CR LF. */
  clientVersion: string;
  serverVersion: string;
  /** I_C and I_S: the KEXINIT payloads, message number byte included. */
  clientKexInit: Uint8Array;
  serverKexInit: Uint8Array;
}

export interface KexResult {
  /**
   * K exactly as it enters the exchange hash and key derivation: the wire encoding with its
   * length prefix (an mpint for DH/ECDH, a string for the hybrid post-quantum methods).
   */
  sharedSecret: Uint8Array;
  /** H, the exchange hash. */
  exchangeHash: Uint8Array;
}

export interface KexClientResult extends KexResult {
  /** K_S, the server's public host key blob. */
  hostKey: Uint8Array;
  /** The signature of H made with the host key (an RFC 4253 §6.6 signature blob). */
  signature: Uint8Array;
}

/** What the server role needs of its host key to complete an exchange. */
export interface KexHostKey {
  /** K_S, the public host key blob. */
  blob: Uint8Array;
  /** Signs H with the negotiated host key algorithm; returns the signature blob. */
  sign(exchangeHash: Uint8Array): Promise<Uint8Array>;
}

export interface KexMethod {
  readonly name: string;
  /** The method's hash, used for H and for key derivation (RFC 4253 §7.2). */
  hash(data: Uint8Array): Uint8Array;
  client(io: KexIO, inputs: ExchangeInputs): Promise<KexClientResult>;
  server(io: KexIO, inputs: ExchangeInputs, hostKey: KexHostKey): Promise<KexResult>;
}
