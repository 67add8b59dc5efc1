/**
 * Transport-layer messages (RFC 4253): the identification line, KEXINIT with algorithm
 * negotiation against our own lists in both roles, and EXT_INFO (RFC 8308). Every decoder runs
 * on every input: each checks its own message number, so one corpus serves all of them.
 */
import { DEFAULT_CIPHERS, DEFAULT_MACS } from "../../src/ssh/crypto/algorithms.js";
import { DEFAULT_KEX } from "../../src/ssh/kex/methods.js";
import { HOST_KEY_ALGORITHMS } from "../../src/ssh/keys/public-key.js";
import { decodeExtInfo, encodeExtInfo } from "../../src/ssh/transport/ext-info.js";
import { decodeKexInit, encodeKexInit, guessWasWrong, negotiate, type KexInit } from "../../src/ssh/transport/kexinit.js";
import { scanVersion } from "../../src/ssh/transport/version.js";
import { each, type FuzzTarget } from "../engine.js";
import { sshMessages, tokens } from "../corpus.js";
import { utf8 } from "../mutate.js";

const ours: KexInit = {
  cookie: new Uint8Array(16),
  kex: [...DEFAULT_KEX, "ext-info-c", "kex-strict-c-v00@openssh.com"],
  serverHostKey: [...HOST_KEY_ALGORITHMS],
  cipherC2S: [...DEFAULT_CIPHERS],
  cipherS2C: [...DEFAULT_CIPHERS],
  macC2S: [...DEFAULT_MACS],
  macS2C: [...DEFAULT_MACS],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
  languagesC2S: [],
  languagesS2C: [],
  firstKexPacketFollows: false,
};
const isAead = (c: string) => c.includes("gcm") || c.includes("chacha");

export const transportMessages: FuzzTarget = {
  name: "ssh-transport",
  iterations: 100_000,
  maxLength: 8192,
  dict: tokens("curve25519-sha256", "ext-info-c", "kex-strict-s-v00@openssh.com", "ssh-ed25519", "aes256-gcm@openssh.com",
    "hmac-sha2-256", "none", ",", ",,", "server-sig-algs", "SSH-2.0-", "SSH-1.99-x", "\r\n", "\n"),
  seeds: () => [
    ...sshMessages(20, 7),
    encodeKexInit(ours),
    encodeExtInfo(new Map([["server-sig-algs", "ssh-ed25519,rsa-sha2-512"], ["ping@openssh.com", "0"]])),
    utf8("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"),
    utf8("banner line\r\nanother\nSSH-1.99-Cisco-1.25\r\n\0\0\0\x0c"),
  ],
  run: (input) => each(
    () => {
      const theirs = decodeKexInit(input);
      // Both roles: we are the client against their server list, and the server against theirs.
      return each(() => negotiate(ours, theirs, isAead), () => negotiate(theirs, ours, isAead), () => guessWasWrong(ours, theirs));
    },
    () => decodeExtInfo(input),
    () => scanVersion(input),
  ),
};

export const targets = [transportMessages];
