/**
 * What a transport (transport.ts) is configured with, per role: the algorithms it offers, its
 * crypto backend and rekey limits, and for a client how it checks the host key, for a server
 * the keys it signs with.
 */
import type { CryptoBackend } from "../crypto/cipher.js";
import type { PrivateKey } from "../keys/private-key.js";
import type { PublicKey } from "../keys/public-key.js";

export interface CommonTransportOptions {
  kex: string[];
  /** Host key algorithms we offer (a server: those its host keys can sign with). */
  serverHostKey: string[];
  cipher: string[];
  mac: string[];
  backend: CryptoBackend;
  /** Re-exchange keys after this many bytes in one direction (default 1 GiB). */
  rekeyAfterBytes?: number;
  /** Re-exchange keys after this long (default 1 hour). */
  rekeyAfterMs?: number;
}

export interface ClientTransportOptions extends CommonTransportOptions {
  role?: "client";
  /** Throws HostKeyError unless the key is trusted for this server. */
  verifyHostKey(key: PublicKey): Promise<void>;
}

export interface ServerTransportOptions extends CommonTransportOptions {
  role: "server";
  /** The keys that sign H; one per key type. */
  hostKeys: readonly PrivateKey[];
  /** Sent as server-sig-algs in EXT_INFO (RFC 8308 §3.1) when the client offers ext-info-c. */
  serverSigAlgs: readonly string[];
}

export type TransportOptions = ClientTransportOptions | ServerTransportOptions;
