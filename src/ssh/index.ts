/** The SSH layer: connections, channels, keys and host trust. */
export { connectSsh, SshConnection, type SshConnectOptions } from "./client.js";
export type { Channel } from "./connection/channel.js";
export type { Prompt } from "./auth/userauth.js";
export type { AlgorithmOptions, AlgorithmList, AlgorithmPreset } from "./algorithms.js";
export { HARDENED_ALGORITHMS } from "./algorithms.js";
export type { HostKeyOptions } from "./trust/host-key-policy.js";
export type { ByteChannel } from "./socket/byte-channel.js";
export type { CryptoBackend } from "./crypto/cipher.js";
export { parsePrivateKey, generateEd25519Key, type PrivateKey } from "./keys/private-key.js";
export { parsePublicKey, parsePublicKeyLine, publicKeyLine, type PublicKey } from "./keys/public-key.js";
export { fingerprintSha256 } from "./keys/fingerprint.js";
export { parsePublicKeyFile } from "./keys/public-key-file.js";
export {
  parseCertificate, parseCertificateFile, certifyPrivateKey, checkCertificate, type Certificate, type CertificatePublicKey,
} from "./keys/certificate.js";
export type { ParsePrivateKeyOptions, Passphrase } from "./keys/key-common.js";
export { DEFAULT_CIPHERS, AES_GCM_FIRST_CIPHERS, defaultCiphers, DEFAULT_MACS, CIPHERS, MACS } from "./crypto/algorithms.js";
export { DEFAULT_KEX, LEGACY_KEX, KEX_METHODS } from "./kex/methods.js";
export { HOST_KEY_ALGORITHMS, LEGACY_HOST_KEY_ALGORITHMS } from "./keys/public-key.js";
export { SshError, ProtocolError, ConnectionError, HostKeyError, AuthError } from "../errors.js";
