/**
 * The server side of user authentication (RFC 4252, RFC 4256 keyboard-interactive): the
 * ssh-userauth service, "none" answered with the methods on offer, publickey with
 * query-before-sign (PK_OK) and the signature checked over the session identifier, password and
 * keyboard-interactive through the caller's `authenticate` hook. Each failed attempt costs a
 * delay, and after `maxAttempts` failures the connection is dropped.
 */
import { AuthError, ProtocolError, SshError } from "../../errors.js";
import type { Prompt } from "../auth/userauth.js";
import { parsePublicKey, keyTypeForAlgorithm, type PublicKey } from "../keys/public-key.js";
import { DISCONNECT_REASON, MSG } from "../messages.js";
import type { Transport } from "../transport/transport.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { AsyncQueue } from "../../util/async-queue.js";

export type AuthMethod = "publickey" | "password" | "keyboard-interactive";

interface AuthRequestBase {
  username: string;
  /** The client's address as the socket reports it. */
  remoteAddress: string;
}

/**
 * One authentication attempt, as the `authenticate` hook sees it (cf. ssh2's ctx.method and
 * asyncssh's validate_password / validate_public_key / get_kbdint_challenge).
 */
export type AuthRequest =
  | (AuthRequestBase & { method: "password"; password: string })
  /**
   * May `publicKey` log in as `username`? Asked for the client's query and again for its signed
   * request; the server checks the signature itself and grants nothing without a valid one.
   */
  | (AuthRequestBase & { method: "publickey"; publicKey: PublicKey })
  /** Ask questions with `prompt` (any number of rounds), then decide. */
  | (AuthRequestBase & {
    method: "keyboard-interactive";
    prompt(prompts: Prompt[], info?: { name?: string; instructions?: string }): Promise<string[]>;
  });

/** Decides one attempt: true lets the user in. */
export type Authenticate = (request: AuthRequest) => boolean | Promise<boolean>;

export interface ServerAuthOptions {
  methods: readonly AuthMethod[];
  authenticate?: Authenticate;
  /** Keys from authorized_keys for a user (checked before `authenticate`). */
  authorizedKeys?: (username: string) => readonly PublicKey[];
  /** Signature algorithms accepted for publickey (what server-sig-algs announces). */
  signatureAlgorithms: readonly string[];
  maxAttempts: number;
  failureDelayMs: number;
  remoteAddress: string;
}

const SERVICE = "ssh-connection";
/** Messages a client may queue while we are busy (e.g. during a failure delay). */
const MAX_QUEUED = 32;
const MAX_PROMPTS = 32;

/**
 * Runs authentication on a transport whose first key exchange is done; resolves with the user
 * name. `onSuccess` runs synchronously just before USERAUTH_SUCCESS is sent, so the caller can
 * route the next message (the client's CHANNEL_OPEN) to the connection layer.
 */
export async function serveAuthentication(transport: Transport, options: ServerAuthOptions, onSuccess: () => void): Promise<string> {
  const inbox = new AsyncQueue<Uint8Array>();
  let queued = 0;
  transport.onMessage = (payload) => {
    if (++queued > MAX_QUEUED) return transport.fail(new ProtocolError("too many messages during authentication", "AUTH_FLOOD"));
    inbox.push(payload.slice());
  };
  transport.onClose((err) => inbox.fail(err ?? new AuthError("CONNECTION_CLOSED", "the connection closed during authentication", [], [])));
  const next = async () => {
    const m = await inbox.shift();
    queued--;
    return m;
  };
  const s = new ServerAuth(transport, options, next);

  const req = new SshReader(await next(), "SERVICE_REQUEST");
  if (req.byte() !== MSG.SERVICE_REQUEST || req.ascii() !== "ssh-userauth") {
    await transport.disconnect(DISCONNECT_REASON.SERVICE_NOT_AVAILABLE, "expected a request for ssh-userauth");
    throw new AuthError("AUTH_PROTOCOL", "the client did not request ssh-userauth", [], []);
  }
  transport.send(new SshWriter(32).byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").finish().slice());

  let failures = 0;
  for (;;) {
    const payload = await next();
    if (payload[0] !== MSG.USERAUTH_REQUEST) throw new ProtocolError(`unexpected message ${payload[0]} during authentication`);
    // The request may carry a password: wipe our buffer of it once it has been judged.
    const outcome = await s.attempt(payload).finally(() => payload.fill(0));
    if (outcome.user !== undefined) {
      onSuccess();
      transport.send(Uint8Array.of(MSG.USERAUTH_SUCCESS));
      return outcome.user;
    }
    if (outcome.counts) {
      failures++;
      await new Promise((r) => setTimeout(r, options.failureDelayMs));
      if (failures >= options.maxAttempts) {
        await transport.disconnect(DISCONNECT_REASON.NO_MORE_AUTH_METHODS_AVAILABLE, "too many authentication failures");
        throw new AuthError("AUTH_FAILED", `too many authentication failures (${failures})`, [], [...options.methods]);
      }
    }
    if (!transport.closed && !outcome.answered) s.failure();
  }
}

interface Outcome {
  /** Set when the attempt succeeded. */
  user?: string;
  /** A failed attempt that costs a delay and counts toward the limit. */
  counts: boolean;
  /** Already answered (PK_OK): no USERAUTH_FAILURE follows. */
  answered?: boolean;
}

class ServerAuth {
  constructor(
    private readonly transport: Transport,
    private readonly options: ServerAuthOptions,
    private readonly next: () => Promise<Uint8Array>,
  ) {}

  failure(): void {
    this.transport.send(new SshWriter(64).byte(MSG.USERAUTH_FAILURE).nameList(this.options.methods).boolean(false).finish().slice());
  }

  async attempt(payload: Uint8Array): Promise<Outcome> {
    const r = new SshReader(payload, "USERAUTH_REQUEST");
    r.byte();
    const username = r.utf8();
    const service = r.ascii();
    const method = r.ascii();
    if (service !== SERVICE) throw new ProtocolError(`authentication for unknown service "${service}"`);
    if (method === "none") return { counts: false };
    if (!(this.options.methods as readonly string[]).includes(method)) return { counts: true };
    const base = { username, remoteAddress: this.options.remoteAddress };
    // A hook that throws denies the attempt; protocol errors (from prompt) still end the connection.
    const ask = async (req: AuthRequest): Promise<boolean> => {
      try {
        return this.options.authenticate ? (await this.options.authenticate(req)) === true : false;
      } catch (e) {
        if (e instanceof SshError) throw e;
        return false;
      }
    };
    switch (method) {
      case "password": {
        if (r.boolean()) return { counts: true }; // a password change: not supported
        const password = r.utf8();
        return (await ask({ ...base, method: "password", password })) ? { user: username, counts: false } : { counts: true };
      }
      case "publickey":
        return this.publicKey(r, payload, base, ask);
      case "keyboard-interactive": {
        r.string(); // language tag (deprecated)
        r.string(); // submethods
        const prompt = (prompts: Prompt[], info: { name?: string; instructions?: string } = {}) => this.prompt(prompts, info);
        return (await ask({ ...base, method: "keyboard-interactive", prompt })) ? { user: username, counts: false } : { counts: true };
      }
    }
    return { counts: true };
  }

  /** RFC 4252 §7: PK_OK for an acceptable key without a signature; otherwise verify, then decide. */
  private async publicKey(r: SshReader, payload: Uint8Array, base: { username: string; remoteAddress: string },
    ask: (req: AuthRequest) => Promise<boolean>): Promise<Outcome> {
    const signed = r.boolean();
    const algorithm = r.ascii();
    const blob = r.string().slice();
    const signedEnd = r.offset;
    let key: PublicKey;
    try {
      key = parsePublicKey(blob);
    } catch {
      return { counts: true };
    }
    if (!this.options.signatureAlgorithms.includes(algorithm) || keyTypeForAlgorithm(algorithm) !== key.type) return { counts: true };
    const listed = this.options.authorizedKeys?.(base.username).some((k) => k.fingerprint === key.fingerprint) ?? false;
    const acceptable = async () => listed || (await ask({ ...base, method: "publickey", publicKey: key }));
    if (!signed) {
      if (!(await acceptable())) return { counts: true };
      this.transport.send(new SshWriter(64 + blob.length).byte(MSG.USERAUTH_PK_OK).string(algorithm).string(blob).finish().slice());
      return { counts: false, answered: true };
    }
    const signature = r.string();
    r.end();
    const data = new SshWriter(64 + signedEnd).string(this.transport.sessionId!).raw(payload.subarray(0, signedEnd)).finish();
    let valid = false;
    try {
      valid = await key.verify(algorithm, signature, data);
    } catch {
      valid = false;
    }
    return valid && (await acceptable()) ? { user: base.username, counts: false } : { counts: true };
  }

  /** RFC 4256 §3.2: one INFO_REQUEST, and the matching INFO_RESPONSE. */
  private async prompt(prompts: Prompt[], info: { name?: string; instructions?: string }): Promise<string[]> {
    if (prompts.length > MAX_PROMPTS) throw new AuthError("AUTH_PROMPTS", `at most ${MAX_PROMPTS} prompts per round`, [], []);
    const w = new SshWriter(256).byte(MSG.USERAUTH_INFO_REQUEST).string(info.name ?? "").string(info.instructions ?? "").string("")
      .uint32(prompts.length);
    for (const p of prompts) w.string(p.prompt).boolean(p.echo);
    this.transport.send(w.finish().slice());
    const reply = await this.next();
    if (reply[0] !== MSG.USERAUTH_INFO_RESPONSE) throw new ProtocolError(`expected USERAUTH_INFO_RESPONSE, got message ${reply[0]}`);
    const r = new SshReader(reply, "USERAUTH_INFO_RESPONSE");
    r.byte();
    const n = r.uint32();
    if (n !== prompts.length) throw new ProtocolError(`${n} answers to ${prompts.length} prompts`);
    const answers: string[] = [];
    for (let i = 0; i < n; i++) answers.push(r.utf8());
    r.end();
    return answers;
  }
}
