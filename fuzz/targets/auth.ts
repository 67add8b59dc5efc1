/**
 * User authentication (RFC 4252, RFC 4256) in both roles: the client's dialogue
 * (src/ssh/auth/userauth.ts) fed server replies, and the server's (src/ssh/server/auth.ts) fed
 * client requests, each over a FakeTransport that delivers the script and then hangs up. The
 * first input byte sets the options (keys, callbacks, server-sig-algs); the rest is up to 12
 * messages. Seeds are whole dialogues: every method, partial success, banners, PK_OK with a
 * real signature that the server verifies.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { authenticate, type AuthOptions } from "../../src/ssh/auth/userauth.js";
import { parsePrivateKey, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { MSG } from "../../src/ssh/messages.js";
import { serveAuthentication, type ServerAuthOptions } from "../../src/ssh/server/auth.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import type { FuzzTarget } from "../engine.js";
import { VECTORS, joinMessages, splitMessages, sshMessages, tagged, tokens } from "../corpus.js";
import { FakeTransport } from "../fakes.js";

const keyFile = (name: string) => readFileSync(join(VECTORS, "base", name), "utf8");
let keys: PrivateKey[] | undefined;
const loadKeys = () => (keys ??= [parsePrivateKey(keyFile("ed25519")), parsePrivateKey(keyFile("rsa2048")), parsePrivateKey(keyFile("ecdsa256"))]);

const w = (type: number) => new SshWriter(128).byte(type);
const done = (x: SshWriter) => x.finish().slice();
const SIG_ALGS = [undefined, ["ssh-ed25519", "rsa-sha2-256"], ["ssh-rsa"], []];

/** Runs `dialogue` against a transport that delivers `script`; a bug seen by the transport is rethrown. */
async function converse(t: FakeTransport, script: Uint8Array[], dialogue: Promise<unknown>): Promise<unknown> {
  const delivery = t.deliver(script);
  try {
    return await dialogue;
  } finally {
    await delivery;
    t.close(undefined);
    if (t.bug !== undefined) throw t.bug;
  }
}

export const clientAuth: FuzzTarget = {
  name: "ssh-userauth",
  iterations: 25_000,
  maxLength: 8192,
  dict: tokens("publickey", "password", "keyboard-interactive", "none", "ssh-ed25519", "rsa-sha2-512", ","),
  seeds: () => {
    const [ed, rsa] = loadKeys();
    const accept = done(w(MSG.SERVICE_ACCEPT).string("ssh-userauth"));
    const failure = (methods: string, partial = false) => done(w(MSG.USERAUTH_FAILURE).string(methods).boolean(partial));
    const success = Uint8Array.of(MSG.USERAUTH_SUCCESS);
    const pkOk = (alg: string, k: PrivateKey) => done(w(MSG.USERAUTH_PK_OK).string(alg).string(k.publicKey.blob));
    const banner = done(w(MSG.USERAUTH_BANNER).string("Authorized use only\r\n").string("en"));
    const info = (n: number) => {
      const m = w(MSG.USERAUTH_INFO_REQUEST).string("2fa").string("answer the prompts").string("").uint32(n);
      for (let i = 0; i < n; i++) m.string(i ? "Code: " : "Password: ").boolean(i > 0);
      return done(m);
    };
    const all = "publickey,password,keyboard-interactive";
    return [
      tagged(1 | 4, joinMessages([accept, failure(all), pkOk("ssh-ed25519", ed!), success])),
      tagged(1 | 4 | 16, joinMessages([accept, banner, failure(all), failure(all), pkOk("rsa-sha2-256", rsa!), failure("password", true), success])),
      tagged(2 | 4, joinMessages([accept, failure("keyboard-interactive,password"), info(2), info(0), info(1), success])),
      tagged(4, joinMessages([accept, failure("password"), Uint8Array.of(60, 0, 0, 0, 4, 0x65, 0x78, 0x70, 0x64, 0, 0, 0, 0)])),
      tagged(4, joinMessages([accept, failure("password"), failure("password"), success])),
      tagged(7, joinMessages(sshMessages(6, 51, 52, 53, 60).slice(0, 12))),
    ];
  },
  run: (input) => {
    const flags = input[0] ?? 0;
    const t = new FakeTransport();
    t.serverSigAlgs = SIG_ALGS[(flags >> 3) & 3];
    const options: AuthOptions = {
      username: "fuzz",
      privateKeys: flags & 1 ? loadKeys() : [],
      onBanner: () => {},
    };
    if (flags & 4) options.password = "pw";
    if (flags & 2) options.keyboardInteractive = (prompts) => prompts.slice(flags & 32 ? 1 : 0).map(() => "answer");
    return converse(t, splitMessages(input.subarray(1), 12), authenticate(t.asTransport(), options, () => {}));
  },
};

let signedSeeds: Uint8Array[] | undefined;

export const serverAuth: FuzzTarget = {
  name: "ssh-server-auth",
  iterations: 25_000,
  maxLength: 8192,
  dict: tokens("ssh-userauth", "ssh-connection", "publickey", "password", "keyboard-interactive", "none", "rsa-sha2-512"),
  seeds: async () => {
    if (signedSeeds) return signedSeeds;
    const t = new FakeTransport();
    const service = done(w(MSG.SERVICE_REQUEST).string("ssh-userauth"));
    const request = (method: string) => w(MSG.USERAUTH_REQUEST).string("alice").string("ssh-connection").string(method);
    const none = done(request("none"));
    const seeds: Uint8Array[] = [];
    for (const [k, alg] of loadKeys().map((k) => [k, k.type === "ssh-rsa" ? "rsa-sha2-512" : k.type] as const)) {
      const query = done(request("publickey").boolean(false).string(alg).string(k.publicKey.blob));
      const unsigned = done(request("publickey").boolean(true).string(alg).string(k.publicKey.blob));
      const signature = await k.sign(alg, new SshWriter(512).string(t.sessionId!).raw(unsigned).finish());
      const signed = done(new SshWriter(512).raw(unsigned).string(signature));
      seeds.push(tagged(4 | 8, joinMessages([service, none, query, signed])));
    }
    const password = done(request("password").boolean(false).string("pw"));
    const kbd = done(request("keyboard-interactive").string("").string(""));
    const answers = (n: number) => {
      const m = w(MSG.USERAUTH_INFO_RESPONSE).uint32(n);
      for (let i = 0; i < n; i++) m.string(i ? "123456" : "pw");
      return done(m);
    };
    seeds.push(
      tagged(1, joinMessages([service, none, done(request("password").boolean(false).string("wrong")), password])),
      tagged(2, joinMessages([service, kbd, answers(2)])),
      tagged(3, joinMessages([service, kbd, answers(3), kbd, answers(3)])),
      tagged(0, joinMessages([service, kbd, answers(0)])),
      tagged(0, joinMessages(sshMessages(5, 50, 61).slice(0, 12))),
    );
    return (signedSeeds = seeds);
  },
  run: (input) => {
    const flags = input[0] ?? 0;
    const t = new FakeTransport();
    const prompts = Array.from({ length: flags & 3 }, (_, i) => ({ prompt: `Q${i}: `, echo: i > 0 }));
    const options: ServerAuthOptions = {
      methods: ["publickey", "password", "keyboard-interactive"],
      authenticate: async (req) => {
        if (req.method === "password") return req.password === "pw";
        if (req.method === "keyboard-interactive") return (await req.prompt(prompts, { name: "n", instructions: "i" }))[0] === "pw";
        return (flags & 4) !== 0;
      },
      authorizedKeys: () => (flags & 8 ? [loadKeys()[0]!.publicKey] : []),
      signatureAlgorithms: ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"],
      maxAttempts: 6,
      failureDelayMs: 0,
      remoteAddress: "203.0.113.7",
    };
    return converse(t, splitMessages(input.subarray(1), 12), serveAuthentication(t.asTransport(), options, () => {}));
  },
};

export const targets = [clientAuth, serverAuth];
