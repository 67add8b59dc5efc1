/**
 * The binary packet protocol's decoder (src/ssh/transport/framing.ts PacketDecoder) under every
 * cipher state: none, chacha20-poly1305, AES-GCM and AES-CTR with plain and encrypt-then-MAC
 * HMACs, pure and platform backends, and a stream that starts in the clear and switches keys
 * after NEWKEYS as the transport does. Input: byte 0 picks the configuration (high bit: start
 * in the clear), byte 1 seeds how the stream is cut into chunks, the rest is the byte stream.
 * Seeds are real packet streams sealed with the same fixed keys, so mutations land both before
 * and after the MAC check (a flipped length, a bad padding length inside a valid MAC, …).
 */
import { CIPHERS, MACS } from "../../src/ssh/crypto/algorithms.js";
import type { CryptoBackend, DirectionKeys, PacketOpener, PacketSealer } from "../../src/ssh/crypto/cipher.js";
import { cryptoSuite } from "../../src/ssh/crypto/suite.js";
import { PacketDecoder, PacketEncoder } from "../../src/ssh/transport/framing.js";
import type { FuzzTarget } from "../engine.js";
import { concatBytes, sshMessages } from "../corpus.js";
import { chunk, chunkSizes } from "../fakes.js";

interface Config {
  cipher?: string;
  mac?: string;
  backend: CryptoBackend;
}

const CONFIGS: readonly Config[] = [
  { backend: "pure" },
  { cipher: "chacha20-poly1305@openssh.com", backend: "pure" },
  { cipher: "aes128-gcm@openssh.com", backend: "pure" },
  { cipher: "aes256-gcm@openssh.com", backend: "auto" },
  { cipher: "aes128-ctr", mac: "hmac-sha2-256", backend: "pure" },
  { cipher: "aes256-ctr", mac: "hmac-sha2-512-etm@openssh.com", backend: "auto" },
  { cipher: "aes192-ctr", mac: "hmac-sha1", backend: "pure" },
  { cipher: "aes256-ctr", mac: "hmac-sha1-etm@openssh.com", backend: "pure" },
  { cipher: "aes128-ctr", mac: "hmac-sha2-256-etm@openssh.com", backend: "auto" },
];
const START_CLEAR = 0x80;

function keysFor(c: Config): DirectionKeys {
  const cipher = CIPHERS[c.cipher!]!;
  const fill = (n: number, v: number) => new Uint8Array(n).map((_, i) => (v + i * 13) & 0xff);
  return { key: fill(cipher.keyLength, 1), iv: fill(cipher.ivLength, 2), macKey: fill(c.mac ? MACS[c.mac]!.keyLength : 0, 3) };
}

async function opener(c: Config): Promise<PacketOpener | undefined> {
  if (!c.cipher) return undefined;
  return CIPHERS[c.cipher]!.createOpener(keysFor(c), c.mac ? MACS[c.mac] : undefined, await cryptoSuite(c.backend));
}

async function sealer(c: Config): Promise<PacketSealer | undefined> {
  if (!c.cipher) return undefined;
  return CIPHERS[c.cipher]!.createSealer(keysFor(c), c.mac ? MACS[c.mac] : undefined, await cryptoSuite(c.backend));
}

async function stream(c: Config, clearFirst: boolean, payloads: Uint8Array[]): Promise<Uint8Array> {
  const enc = new PacketEncoder();
  const out: Uint8Array[] = [];
  if (clearFirst) {
    for (const p of [...sshMessages(20).slice(0, 1), Uint8Array.of(21)]) out.push((await enc.encode(p)).slice());
  }
  const s = await sealer(c);
  if (s) enc.sealer = s;
  for (const p of payloads) out.push((await enc.encode(p)).slice());
  return concatBytes(...out);
}

let seeds: Uint8Array[] | undefined;

export const packetFramer: FuzzTarget = {
  name: "packet-framer",
  iterations: 80_000,
  maxLength: 16 * 1024,
  seeds: async () => {
    if (seeds) return seeds;
    const messages = sshMessages().filter((m) => m.length < 1500);
    const out: Uint8Array[] = [];
    for (const [i, c] of CONFIGS.entries()) {
      for (let k = 0; k < 4; k++) {
        const payloads = [0, 1, 2].map((j) => messages[(i * 7 + k * 3 + j) % messages.length]!);
        const clear = k % 2 === 1 && c.cipher !== undefined;
        out.push(concatBytes(Uint8Array.of(i | (clear ? START_CLEAR : 0), k * 37), await stream(c, clear, payloads)));
      }
    }
    return (seeds = out);
  },
  run: async (input) => {
    const sel = input[0] ?? 0;
    const config = CONFIGS[(sel & 0x7f) % CONFIGS.length]!;
    const decoder = new PacketDecoder();
    let keyed = !(sel & START_CLEAR) || !config.cipher;
    if (!(sel & START_CLEAR)) decoder.opener = (await opener(config)) ?? decoder.opener;
    let payloads = 0;
    for (const piece of chunk(input.subarray(2), chunkSizes(input[1] ?? 0))) {
      decoder.push(piece);
      for (let next = decoder.next(); next !== undefined; next = decoder.next()) {
        const payload = next instanceof Promise ? await next : next;
        if (!(payload instanceof Uint8Array) || payload.length === 0) throw new Error("decoder returned an empty payload");
        payloads++;
        // The transport switches keys after the peer's NEWKEYS; the decoder must cope mid-stream.
        if (!keyed && payload[0] === 21) {
          decoder.opener = (await opener(config))!;
          keyed = true;
        }
      }
    }
    return payloads;
  },
};

export const targets = [packetFramer];
