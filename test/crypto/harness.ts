/**
 * Shared checks for the packet ciphers: builds RFC 4253 §6 packets and runs the round-trip,
 * backend-equivalence, tamper and packetLength properties for one cipher × MAC pairing.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { expect } from "vitest";
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, PacketOpener } from "../../src/ssh/crypto/cipher.js";
import type { CryptoSuite } from "../../src/ssh/crypto/primitives.js";
import { NOBLE_SUITE, nobleChacha20, nobleHmac, noblePoly1305 } from "../../src/ssh/crypto/noble-primitives.js";
import { cryptoSuite, cryptoSupport } from "../../src/ssh/crypto/suite.js";
import { hasWebCrypto, webCtr, webGcm } from "../../src/ssh/crypto/webcrypto-aes.js";
import { SshError, ProtocolError } from "../../src/errors.js";

/**
 * The backends under test, each forced for every primitive it has: "pure" (noble), "native"
 * (node:crypto; a primitive this runtime lacks throws NATIVE_CRYPTO_UNAVAILABLE and the pairing
 * is skipped for it), "webcrypto" (AES on WebCrypto, the rest noble), and "auto" as chosen here.
 */
export type SuiteName = "pure" | "native" | "webcrypto" | "auto";

export async function suites(): Promise<[SuiteName, CryptoSuite][]> {
  const list: [SuiteName, CryptoSuite][] = [
    ["pure", NOBLE_SUITE],
    ["native", await cryptoSuite("native")],
    ["auto", await cryptoSuite("auto")],
  ];
  if (hasWebCrypto()) list.push(["webcrypto", { gcm: webGcm, ctr: webCtr, chacha20: nobleChacha20, poly1305: noblePoly1305, hmac: nobleHmac }]);
  return list;
}

/** One backend of suites() by name; undefined when this runtime has no such backend (WebCrypto). */
export async function suiteNamed(name: SuiteName): Promise<CryptoSuite | undefined> {
  return (await suites()).find(([n]) => n === name)?.[1];
}

/** The suites that can serve this pairing on this runtime (native only where its primitives passed). */
export async function suitesFor(cipher: CipherAlgorithm, mac: MacAlgorithm | undefined): Promise<[SuiteName, CryptoSuite][]> {
  const keys = zeroKeys(cipher, mac);
  const usable: [SuiteName, CryptoSuite][] = [];
  for (const [name, suite] of await suites()) {
    try {
      cipher.createSealer(keys, mac, suite);
      usable.push([name, suite]);
    } catch (e) {
      if (!(e instanceof SshError && e.code === "NATIVE_CRYPTO_UNAVAILABLE")) throw e;
    }
  }
  return usable;
}

export { cryptoSupport };

export const zeroKeys = (cipher: CipherAlgorithm, mac: MacAlgorithm | undefined): DirectionKeys => ({
  key: new Uint8Array(cipher.keyLength),
  iv: new Uint8Array(cipher.ivLength),
  macKey: new Uint8Array(mac?.keyLength ?? 0),
});

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/[\s:]/g, ""), "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/**
 * packet_length || padding_length || payload || padding, padded per RFC 4253 §6: at least 4
 * bytes of padding, total (with or without the length field) a multiple of blockSize.
 */
export function buildPacket(
  payload: Uint8Array,
  blockSize: number,
  lengthExcluded: boolean,
  extraBlocks = 0,
  padByte = 0,
): Uint8Array {
  const base = 1 + payload.length + (lengthExcluded ? 0 : 4);
  let pad = blockSize - (base % blockSize);
  if (pad < 4) pad += blockSize;
  pad += extraBlocks * blockSize;
  const packet = new Uint8Array(4 + 1 + payload.length + pad).fill(padByte);
  new DataView(packet.buffer).setUint32(0, 1 + payload.length + pad);
  packet[4] = pad;
  packet.set(payload, 5);
  return packet;
}

/** Runs `f`, turning a synchronous throw into a rejection so both failure styles are caught. */
export const settle = async <T>(f: () => T | Promise<T>): Promise<T> => f();

export interface VectorCase {
  cipher: string;
  mac?: string;
  key: string;
  iv: string;
  macKey?: string;
  packets: { seq: number; plain: string; wire: string }[];
}

/** Cases produced by test/vectors/openssh-packets.py (pyca/cryptography, i.e. OpenSSL). */
export function openSshVectors(filter: (c: VectorCase) => boolean): VectorCase[] {
  const url = new URL("../vectors/openssh-packets.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { cases: VectorCase[] }).cases.filter(filter);
}

/** Seals a vector case's packets in order and opens the expected wire bytes back. */
export async function checkVectorCase(
  c: VectorCase,
  cipher: CipherAlgorithm,
  mac: MacAlgorithm | undefined,
  suite: CryptoSuite,
): Promise<void> {
  const keys = { key: hex(c.key), iv: hex(c.iv), macKey: hex(c.macKey ?? "") };
  const sealer = cipher.createSealer(keys, mac, suite);
  const opener = cipher.createOpener(keys, mac, suite);
  for (const p of c.packets) {
    expect(toHex(await sealer.seal(p.seq, hex(p.plain)))).toBe(p.wire);
    const wire = hex(p.wire);
    expect(opener.packetLength(p.seq, wire.subarray(0, opener.headerLength))).toBe(wire.length - 4 - opener.macLength);
    expect(toHex(await opener.open(p.seq, wire))).toBe(p.plain.slice(8));
  }
}

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

function keysArb(cipher: CipherAlgorithm, mac: MacAlgorithm | undefined): fc.Arbitrary<DirectionKeys> {
  return fc.record({ key: bytes(cipher.keyLength), iv: bytes(cipher.ivLength), macKey: bytes(mac?.keyLength ?? 0) });
}

/** A run of consecutive packets; the first seq is sometimes near 2^32 so seq wraps mid-run. */
function streamArb(blockSize: number, lengthExcluded: boolean) {
  const packet = fc
    .record({ payload: fc.uint8Array({ maxLength: 300 }), extra: fc.nat(2), pad: fc.nat(255) })
    .map(({ payload, extra, pad }) => buildPacket(payload, blockSize, lengthExcluded, extra, pad));
  const firstSeq = fc.oneof(fc.nat(1000), fc.integer({ min: 0xfffffffc, max: 0xffffffff }));
  return fc.record({ firstSeq, packets: fc.array(packet, { minLength: 1, maxLength: 5 }) });
}

const seqAt = (first: number, i: number) => (first + i) >>> 0;

async function sealAll(cipher: CipherAlgorithm, keys: DirectionKeys, mac: MacAlgorithm | undefined, suite: CryptoSuite, firstSeq: number, packets: Uint8Array[]) {
  const sealer = cipher.createSealer(keys, mac, suite);
  // Calls are issued without awaiting in between: the sealer must keep packet order itself.
  const pending = packets.map((p, i) => sealer.seal(seqAt(firstSeq, i), p.slice()));
  return Promise.all(pending);
}

async function openAll(opener: PacketOpener, firstSeq: number, wires: Uint8Array[]) {
  const pending = wires.map((w, i) => {
    const seq = seqAt(firstSeq, i);
    const header = w.slice(0, opener.headerLength);
    const length = opener.packetLength(seq, header);
    expect(opener.packetLength(seq, header)).toBe(length); // a second call sees the same state
    expect(length).toBe(w.length - 4 - opener.macLength);
    return opener.open(seq, w.slice());
  });
  return Promise.all(pending);
}

/** Seals `packets` with every usable backend and returns each backend's wire bytes. */
async function sealEach(named: [SuiteName, CryptoSuite][], cipher: CipherAlgorithm, keys: DirectionKeys, mac: MacAlgorithm | undefined, firstSeq: number, packets: Uint8Array[]) {
  return Promise.all(named.map(async ([name, suite]) => [name, (await sealAll(cipher, keys, mac, suite, firstSeq, packets)).map(toHex)] as const));
}

/** All four properties for one pairing, across every backend this runtime has. */
export async function checkPairing(cipher: CipherAlgorithm, mac: MacAlgorithm | undefined, numRuns = 15): Promise<void> {
  const lengthExcluded = cipher.aead || mac!.etm;
  const probe = cipher.createSealer(zeroKeys(cipher, mac), mac, NOBLE_SUITE);
  expect(probe.lengthExcludedFromPadding).toBe(lengthExcluded);
  const { blockSize } = probe;
  const named = await suitesFor(cipher, mac);

  // Every backend seals to the same bytes as noble, and every backend opens every other's
  // packets (native seal -> pure open and the reverse, and so on for each pair).
  await fc.assert(
    fc.asyncProperty(keysArb(cipher, mac), streamArb(blockSize, lengthExcluded), async (keys, { firstSeq, packets }) => {
      const sealed = await sealEach(named, cipher, keys, mac, firstSeq, packets);
      const expected = packets.map((p) => toHex(p.subarray(4)));
      for (const [, wires] of sealed) expect(wires).toEqual(sealed[0]![1]);
      for (const [, suite] of named) {
        for (const [, wires] of sealed) {
          const opened = await openAll(cipher.createOpener(keys, mac, suite), firstSeq, wires.map(hex));
          expect(opened.map(toHex)).toEqual(expected);
        }
      }
    }),
    { numRuns },
  );

  // Any single flipped bit in any packet's wire bytes is rejected with ProtocolError.
  await fc.assert(
    fc.asyncProperty(
      keysArb(cipher, mac),
      streamArb(blockSize, lengthExcluded),
      fc.nat(),
      fc.nat(),
      fc.constantFrom(...named.map(([, suite]) => suite)),
      async (keys, { firstSeq, packets }, which, bit, suite) => {
        const wires = await sealAll(cipher, keys, mac, suite, firstSeq, packets);
        const target = which % wires.length;
        const wire = wires[target]!;
        const bitIndex = bit % (wire.length * 8);
        wire[bitIndex >> 3]! ^= 1 << (bitIndex & 7);
        const opener = cipher.createOpener(keys, mac, suite);
        for (let i = 0; i < target; i++) await opener.open(seqAt(firstSeq, i), wires[i]!);
        await expect(settle(() => opener.open(seqAt(firstSeq, target), wire))).rejects.toBeInstanceOf(ProtocolError);
      },
    ),
    { numRuns: numRuns * 2 },
  );
}
