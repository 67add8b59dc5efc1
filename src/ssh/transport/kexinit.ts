/**
 * SSH_MSG_KEXINIT (RFC 4253 §7.1) and algorithm negotiation: for each category the first
 * algorithm on the client's list that the server also lists wins.
 */
import { ProtocolError } from "../../errors.js";
import { MSG } from "../messages.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";

export interface KexInit {
  cookie: Uint8Array;
  kex: string[];
  serverHostKey: string[];
  cipherC2S: string[];
  cipherS2C: string[];
  macC2S: string[];
  macS2C: string[];
  compressionC2S: string[];
  compressionS2C: string[];
  languagesC2S: string[];
  languagesS2C: string[];
  firstKexPacketFollows: boolean;
}

export function encodeKexInit(m: KexInit): Uint8Array {
  return new SshWriter(1024)
    .byte(MSG.KEXINIT)
    .raw(m.cookie)
    .nameList(m.kex)
    .nameList(m.serverHostKey)
    .nameList(m.cipherC2S)
    .nameList(m.cipherS2C)
    .nameList(m.macC2S)
    .nameList(m.macS2C)
    .nameList(m.compressionC2S)
    .nameList(m.compressionS2C)
    .nameList(m.languagesC2S)
    .nameList(m.languagesS2C)
    .boolean(m.firstKexPacketFollows)
    .uint32(0)
    .finish()
    .slice();
}

export function decodeKexInit(payload: Uint8Array): KexInit {
  const r = new SshReader(payload, "KEXINIT");
  if (r.byte() !== MSG.KEXINIT) throw new ProtocolError("expected KEXINIT");
  const m: KexInit = {
    cookie: r.raw(16),
    kex: r.nameList(),
    serverHostKey: r.nameList(),
    cipherC2S: r.nameList(),
    cipherS2C: r.nameList(),
    macC2S: r.nameList(),
    macS2C: r.nameList(),
    compressionC2S: r.nameList(),
    compressionS2C: r.nameList(),
    languagesC2S: r.nameList(),
    languagesS2C: r.nameList(),
    firstKexPacketFollows: r.boolean(),
  };
  r.uint32(); // reserved
  r.end();
  return m;
}

/** Markers that appear in kex lists but are not algorithms (RFC 8308 §2.1, OpenSSH PROTOCOL §1.10). */
export const EXT_INFO_C = "ext-info-c";
export const EXT_INFO_S = "ext-info-s";
export const STRICT_KEX_C = "kex-strict-c-v00@openssh.com";
export const STRICT_KEX_S = "kex-strict-s-v00@openssh.com";
const PSEUDO = new Set([EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S]);

export interface Negotiated {
  kex: string;
  serverHostKey: string;
  cipherC2S: string;
  cipherS2C: string;
  /** Empty when the cipher is AEAD (its tag replaces the MAC). */
  macC2S: string;
  macS2C: string;
}

/**
 * Picks algorithms as RFC 4253 §7.1 says. `isAead` tells which ciphers need no MAC (OpenSSH
 * does not negotiate a MAC for them, so a MAC mismatch must not fail the exchange).
 */
export function negotiate(client: KexInit, server: KexInit, isAead: (cipher: string) => boolean): Negotiated {
  const pick = (what: string, c: string[], s: string[]): string => {
    const found = c.find((a) => !PSEUDO.has(a) && s.includes(a));
    if (found === undefined) {
      throw new ProtocolError(
        `no common ${what} algorithm: the client offers ${c.filter((a) => !PSEUDO.has(a)).join(",") || "(none)"}; ` +
          `the server offers ${s.filter((a) => !PSEUDO.has(a)).join(",") || "(none)"}`,
        "KEX_NO_COMMON_ALGORITHM",
      );
    }
    return found;
  };
  const cipherC2S = pick("client-to-server cipher", client.cipherC2S, server.cipherC2S);
  const cipherS2C = pick("server-to-client cipher", client.cipherS2C, server.cipherS2C);
  const result: Negotiated = {
    kex: pick("key exchange", client.kex, server.kex),
    serverHostKey: pick("host key", client.serverHostKey, server.serverHostKey),
    cipherC2S,
    cipherS2C,
    macC2S: isAead(cipherC2S) ? "" : pick("client-to-server MAC", client.macC2S, server.macC2S),
    macS2C: isAead(cipherS2C) ? "" : pick("server-to-client MAC", client.macS2C, server.macS2C),
  };
  pick("client-to-server compression", client.compressionC2S, server.compressionC2S);
  pick("server-to-client compression", client.compressionS2C, server.compressionS2C);
  return result;
}

/**
 * RFC 4253 §7: when the peer set first_kex_packet_follows and guessed wrong (its first kex or
 * host key algorithm is not the negotiated one), its next key-exchange packet must be ignored.
 */
export function guessWasWrong(client: KexInit, server: KexInit): boolean {
  return client.kex[0] !== server.kex[0] || client.serverHostKey[0] !== server.serverHostKey[0];
}
