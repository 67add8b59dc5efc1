/**
 * The client side of user authentication (RFC 4252, RFC 4256 keyboard-interactive). Methods are
 * tried in OpenSSH's order — public keys, keyboard-interactive, password — each only when the
 * server lists it; partial success (multi-factor) carries on with what the server still allows.
 */
import { AuthError, ProtocolError } from "../../errors.js";
import { certificateAlgorithm, certificatePlainKeyType, plainSignatureAlgorithm } from "../keys/certificate.js";
import type { PrivateKey } from "../keys/private-key.js";
import { MSG } from "../messages.js";
import type { Transport } from "../transport/transport.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { AsyncQueue } from "../../util/async-queue.js";

export interface Prompt {
  prompt: string;
  echo: boolean;
}

export interface AuthOptions {
  username: string;
  password?: string;
  privateKeys?: PrivateKey[];
  /** Answers keyboard-interactive prompts (RFC 4256 §3.2); one answer per prompt. */
  keyboardInteractive?: (prompts: Prompt[], info: { name: string; instructions: string }) => Promise<string[]> | string[];
  /** Called with the server's USERAUTH_BANNER text (RFC 4252 §5.4). */
  onBanner?: (text: string) => void;
}

const SERVICE = "ssh-connection";

/**
 * Authenticates over a transport whose first key exchange is done. `onSuccess` runs
 * synchronously when USERAUTH_SUCCESS arrives, so the caller can route the very next message
 * (servers send global requests right away) to the connection layer.
 */
export async function authenticate(transport: Transport, options: AuthOptions, onSuccess: () => void): Promise<void> {
  const inbox = new AsyncQueue<Uint8Array>();
  transport.onMessage = (payload) => {
    if (payload[0] === MSG.USERAUTH_BANNER) return banner(payload, options);
    if (payload[0] === MSG.USERAUTH_SUCCESS) onSuccess();
    inbox.push(payload);
  };
  transport.onClose((err) => inbox.fail(err ?? new AuthError("CONNECTION_CLOSED", "the connection closed during authentication", [], [])));

  transport.send(new SshWriter(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").finish().slice());
  const accept = await inbox.shift();
  if (accept[0] !== MSG.SERVICE_ACCEPT) throw new ProtocolError(`expected SERVICE_ACCEPT, got message ${accept[0]}`);
  // RFC 4253 §10: the accept names the service. Some old servers send the bare message byte,
  // which OpenSSH tolerates too; a different name is a server answering some other request.
  const ar = new SshReader(accept, "SERVICE_ACCEPT");
  ar.byte();
  if (ar.remaining > 0) {
    const service = ar.ascii();
    if (service !== "ssh-userauth") throw new ProtocolError(`SERVICE_ACCEPT for "${service.slice(0, 64)}", not ssh-userauth`);
  }

  const session = new AuthSession(transport, inbox, options.username);
  const first = await session.request("none", (w) => w);
  if (first.success) return;
  let allowed = first.methods;

  const steps: { method: string; run: () => Promise<AuthResult> }[] = [];
  for (const key of options.privateKeys ?? []) steps.push({ method: "publickey", run: () => session.publicKey(key, transport) });
  if (options.keyboardInteractive || options.password !== undefined) {
    steps.push({ method: "keyboard-interactive", run: () => session.keyboardInteractive(options) });
  }
  if (options.password !== undefined) steps.push({ method: "password", run: () => session.password(options.password!) });

  // Each step runs once, in order, when the server still allows its method. After a partial
  // success (RFC 4252 §5.1) the server's new list selects the next factor.
  const tried: string[] = [];
  let remaining = steps;
  for (;;) {
    const next = remaining.find((s) => allowed.includes(s.method));
    if (!next) break;
    remaining = remaining.filter((s) => s !== next);
    if (!tried.includes(next.method)) tried.push(next.method);
    const r = await next.run();
    if (r.success) return;
    allowed = r.methods;
  }
  throw new AuthError(
    "AUTH_FAILED",
    `authentication failed for user ${options.username}: tried ${tried.join(", ") || "nothing"}; ` +
      `the server allows ${allowed.join(", ") || "nothing"}`,
    tried,
    allowed,
  );
}

interface AuthResult {
  success: boolean;
  methods: string[];
  partial: boolean;
}

class AuthSession {
  constructor(
    private readonly transport: Transport,
    private readonly inbox: AsyncQueue<Uint8Array>,
    private readonly username: string,
  ) {}

  /**
   * Sends one USERAUTH_REQUEST; `body` appends the method-specific fields, at most `extra`
   * bytes beyond 256 (sized so the writer never grows and leaves a stale copy behind).
   */
  send(method: string, body: (w: SshWriter) => SshWriter, extra = 0): void {
    const w = new SshWriter(256 + extra).byte(MSG.USERAUTH_REQUEST).string(this.username).string(SERVICE).string(method);
    sendWiped(this.transport, body(w));
  }

  async request(method: string, body: (w: SshWriter) => SshWriter): Promise<AuthResult> {
    this.send(method, body);
    return this.outcome(await this.inbox.shift());
  }

  outcome(msg: Uint8Array): AuthResult {
    if (msg[0] === MSG.USERAUTH_SUCCESS) return { success: true, methods: [], partial: false };
    if (msg[0] !== MSG.USERAUTH_FAILURE) throw new ProtocolError(`unexpected message ${msg[0]} during authentication`);
    const r = new SshReader(msg, "USERAUTH_FAILURE");
    r.byte();
    return { success: false, methods: r.nameList(), partial: r.boolean() };
  }

  /** RFC 4252 §7: query whether the key is acceptable, then sign. */
  async publicKey(key: PrivateKey, transport: Transport): Promise<AuthResult> {
    const algorithm = signatureAlgorithm(key.type, transport.serverSigAlgs);
    const blob = key.publicKey.blob;
    this.send("publickey", (w) => w.boolean(false).string(algorithm).string(blob));
    const reply = await this.inbox.shift();
    if (reply[0] !== MSG.USERAUTH_PK_OK) return this.outcome(reply);
    const signed = new SshWriter(512)
      .string(transport.sessionId!)
      .byte(MSG.USERAUTH_REQUEST)
      .string(this.username)
      .string(SERVICE)
      .string("publickey")
      .boolean(true)
      .string(algorithm)
      .string(blob)
      .finish();
    const signature = await key.sign(algorithm, signed);
    return this.request("publickey", (w) => w.boolean(true).string(algorithm).string(blob).string(signature));
  }

  async password(password: string): Promise<AuthResult> {
    // Encoded here (not by the writer) so these bytes can be wiped; the string itself cannot be.
    const secret = utf8.encode(password);
    try {
      this.send("password", (w) => w.boolean(false).string(secret), secret.length + 8);
    } finally {
      secret.fill(0);
    }
    const reply = await this.inbox.shift();
    if (reply[0] === MSG.USERAUTH_INFO_REQUEST) {
      // 60 is SSH_MSG_USERAUTH_PASSWD_CHANGEREQ in the password method (RFC 4252 §8).
      throw new AuthError("PASSWORD_CHANGE_REQUIRED",
        "the server requires a password change before login; change it with an interactive ssh session first",
        ["password"], []);
    }
    return this.outcome(reply);
  }

  /** RFC 4256 §3: answer INFO_REQUESTs until the server decides. */
  async keyboardInteractive(options: AuthOptions): Promise<AuthResult> {
    this.send("keyboard-interactive", (w) => w.string("").string(""));
    for (;;) {
      const msg = await this.inbox.shift();
      if (msg[0] !== MSG.USERAUTH_INFO_REQUEST) return this.outcome(msg);
      const r = new SshReader(msg, "USERAUTH_INFO_REQUEST");
      r.byte();
      const name = r.utf8();
      const instructions = r.utf8();
      r.string(); // language tag, deprecated
      const count = r.uint32();
      if (count > 64) throw new ProtocolError(`keyboard-interactive request with ${count} prompts`);
      const prompts: Prompt[] = [];
      for (let i = 0; i < count; i++) prompts.push({ prompt: r.utf8(), echo: r.boolean() });
      const answers = await answer(prompts, name, instructions, options);
      if (answers.length !== prompts.length) {
        throw new AuthError("AUTH_BAD_ANSWERS", `keyboardInteractive returned ${answers.length} answers for ${prompts.length} prompts`,
          ["keyboard-interactive"], []);
      }
      // Answers are secrets (passwords, one-time codes): encoded here and wiped after sending.
      const encoded = answers.map((a) => utf8.encode(a));
      const w = new SshWriter(64 + encoded.reduce((n, a) => n + a.length + 4, 0)).byte(MSG.USERAUTH_INFO_RESPONSE).uint32(answers.length);
      for (const a of encoded) w.string(a);
      for (const a of encoded) a.fill(0);
      sendWiped(this.transport, w);
    }
  }
}

const utf8 = new TextEncoder();

/**
 * Hands the writer's message to the transport, then zeroes both the writer's buffer and the
 * copy handed over. Transport.send() frames (copies) the payload before it returns — it must,
 * since callers reuse their buffers — so the bytes on their way to the wire are unaffected.
 */
function sendWiped(transport: Transport, w: SshWriter): void {
  const view = w.finish();
  const payload = view.slice();
  view.fill(0);
  try {
    transport.send(payload);
  } finally {
    payload.fill(0);
  }
}

async function answer(prompts: Prompt[], name: string, instructions: string, options: AuthOptions): Promise<string[]> {
  if (options.keyboardInteractive) return options.keyboardInteractive(prompts, { name, instructions });
  // Without a callback, a lone password prompt is answered with the password (as ssh(1) users expect).
  if (prompts.length === 0) return [];
  if (prompts.length === 1 && /password/i.test(prompts[0]!.prompt) && !prompts[0]!.echo && options.password !== undefined) {
    return [options.password];
  }
  return prompts.map(() => "");
}

/**
 * The signature algorithm for a key: RSA keys use rsa-sha2-512/256 when the server lists them in
 * server-sig-algs (RFC 8332 §3.3); when the server sent no list, rsa-sha2-512 is assumed, as
 * every server that supports ext-info but omits the list is modern OpenSSH. Certificates
 * (…-cert-v01@openssh.com) use the certificate variant of their plain key's choice, e.g.
 * rsa-sha2-512-cert-v01@openssh.com, as ssh(1) does (server-sig-algs names plain algorithms).
 */
export function signatureAlgorithm(keyType: string, serverSigAlgs: string[] | undefined): string {
  const plainType = certificatePlainKeyType(keyType);
  if (plainType !== undefined) {
    const listed = serverSigAlgs?.map((a) => plainSignatureAlgorithm(a) ?? a);
    return certificateAlgorithm(signatureAlgorithm(plainType, listed))!;
  }
  if (keyType !== "ssh-rsa") return keyType;
  if (!serverSigAlgs) return "rsa-sha2-512";
  return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"].find((a) => serverSigAlgs.includes(a)) ?? "rsa-sha2-512";
}

function banner(payload: Uint8Array, options: AuthOptions): void {
  const r = new SshReader(payload, "USERAUTH_BANNER");
  r.byte();
  options.onBanner?.(r.utf8());
}
