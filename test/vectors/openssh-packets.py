#!/usr/bin/env python3
"""Reference generator for test/vectors/openssh-packets.json.

An independent model of OpenSSH's packet protection, written against the specs and run
through pyca/cryptography (OpenSSL), so the TypeScript code is checked against a different
implementation rather than against itself:
  - chacha20-poly1305@openssh.com: PROTOCOL.chacha20poly1305 (original ChaCha20, 64-bit
    nonce = seq; OpenSSL's 16-byte ChaCha20 "nonce" is counter(8, LE) || nonce(8)).
  - aes{128,256}-gcm@openssh.com: RFC 5647 section 7.1 / OpenSSH PROTOCOL 1.6 (IV = 4-byte
    fixed || 8-byte invocation counter, +1 per packet mod 2^64; packet_length is the AAD).
  - aes{128,192,256}-ctr: RFC 4344 section 4 (one keystream across packets, OpenSSL
    increments the whole 128-bit counter block) with hmac-sha2-*: RFC 4253 section 6.4
    (MAC over seq || plaintext packet) and -etm@openssh.com: OpenSSH PROTOCOL 1.5 (MAC over
    seq || packet_length || ciphertext).
Run: python3 test/vectors/openssh-packets.py > test/vectors/openssh-packets.json
"""
import hashlib, hmac, json, struct
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.poly1305 import Poly1305


def build_packet(payload, block, length_excluded, pad_byte):
    # RFC 4253 section 6: padding >= 4 and aligns (length excluded or not) to `block`.
    base = 1 + len(payload) + (0 if length_excluded else 4)
    pad = block - base % block
    if pad < 4:
        pad += block
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + bytes([pad_byte]) * pad


PAYLOADS = [b"\x05\x00\x00\x00\x0cssh-userauth", bytes(range(37)), b"\x15", bytes(range(200, 256)) * 3]


def chacha(key, seq, data, counter):
    nonce = struct.pack("<Q", counter) + struct.pack(">Q", seq)
    return Cipher(algorithms.ChaCha20(key, nonce), None).encryptor().update(data)


def chacha_case(payloads=PAYLOADS, seqs=(0, 1, 7, 0xFFFFFFFF)):
    key = bytes(range(0x40, 0x80))  # 64 bytes: K_2 = key[:32] (payload), K_1 = key[32:] (length)
    k2, k1 = key[:32], key[32:]
    packets = []
    for i, seq in enumerate(seqs):
        pkt = build_packet(payloads[i], 8, True, 0x11 * (i + 1))
        enc = chacha(k1, seq, pkt[:4], 0) + chacha(k2, seq, pkt[4:], 1)
        poly_key = chacha(k2, seq, bytes(32), 0)
        p = Poly1305(poly_key)
        p.update(enc)
        packets.append({"seq": seq, "plain": pkt.hex(), "wire": (enc + p.finalize()).hex()})
    return {"cipher": "chacha20-poly1305@openssh.com", "key": key.hex(), "iv": "", "packets": packets}


def gcm_case(name, key, iv):
    fixed, counter = iv[:4], int.from_bytes(iv[4:], "big")
    packets = []
    for i in range(4):
        pkt = build_packet(PAYLOADS[i], 16, True, 0x21 * (i + 1))
        nonce = fixed + counter.to_bytes(8, "big")
        counter = (counter + 1) % (1 << 64)
        ct = AESGCM(key).encrypt(nonce, pkt[4:], pkt[:4])
        packets.append({"seq": 3 + i, "plain": pkt.hex(), "wire": (pkt[:4] + ct).hex()})
    return {"cipher": name, "key": key.hex(), "iv": iv.hex(), "packets": packets}


def ctr_case(name, key, iv, mac_name, mac_key, digest, etm):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()  # one stream for all packets
    packets = []
    for i in range(4):
        seq = 0xFFFFFFFE + i if i < 2 else i - 2  # includes the uint32 wrap of seq
        seq &= 0xFFFFFFFF
        pkt = build_packet(PAYLOADS[i], 16, etm, 0x31 * (i + 1))
        sb = struct.pack(">I", seq)
        if etm:
            wire = pkt[:4] + enc.update(pkt[4:])
            tag = hmac.new(mac_key, sb + wire, digest).digest()
        else:
            tag = hmac.new(mac_key, sb + pkt, digest).digest()
            wire = enc.update(pkt)
        packets.append({"seq": seq, "plain": pkt.hex(), "wire": (wire + tag).hex()})
    return {"cipher": name, "mac": mac_name, "key": key.hex(), "iv": iv.hex(),
            "macKey": mac_key.hex(), "packets": packets}


# IVs end near 2^64 / 2^128 so the counters carry across byte and word boundaries mid-stream.
near_wrap = bytes.fromhex("00112233445566778899aabbfffffffe")
# Data-sized packets, where a node:crypto backend builds Poly1305 from its AEAD (6 KiB and more):
# just above that size, a 32 KiB SFTP READ reply, and a larger one. The tag input (4 + a multiple
# of 8 bytes) ends in a 4- or a 12-byte Poly1305 block; both occur.
LARGE_PAYLOADS = [bytes((i * 7) & 0xFF for i in range(n)) for n in (6200, 32768 + 13, 40000)]

cases = [
    chacha_case(),
    chacha_case(LARGE_PAYLOADS, (3, 0x7FFFFFFF, 0xFFFFFFFE)),
    gcm_case("aes128-gcm@openssh.com", bytes(range(16)), bytes.fromhex("a0a1a2a3fffffffffffffffe")),
    gcm_case("aes256-gcm@openssh.com", bytes(range(100, 132)), bytes.fromhex("0102030400000000000000ff")),
    ctr_case("aes128-ctr", bytes(range(16)), near_wrap, "hmac-sha2-256", bytes(range(32)), hashlib.sha256, False),
    ctr_case("aes192-ctr", bytes(range(24)), bytes.fromhex("fffffffffffffffffffffffffffffffd"), "hmac-sha2-512", bytes(range(64)), hashlib.sha512, False),
    ctr_case("aes256-ctr", bytes(range(32)), near_wrap, "hmac-sha2-256-etm@openssh.com", bytes(range(1, 33)), hashlib.sha256, True),
    ctr_case("aes128-ctr", bytes(range(16)), bytes(16), "hmac-sha1-etm@openssh.com", bytes(range(20)), hashlib.sha1, True),
    ctr_case("aes256-ctr", bytes(range(32)), near_wrap, "hmac-sha1", bytes(range(20)), hashlib.sha1, False),
]
print(json.dumps({"source": "test/vectors/openssh-packets.py (pyca/cryptography " + __import__("cryptography").__version__ + ")", "cases": cases}, indent=1))
