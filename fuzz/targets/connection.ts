/**
 * The connection protocol (RFC 4254, src/ssh/connection/) with the server's session rules
 * (src/ssh/server/sessions.ts): a Connection over a FakeTransport that has a channel opening, a
 * global request and channel requests pending, fed up to 24 peer messages. The first input byte
 * picks client or server behaviour and window sizes. Every promise the harness starts must settle
 * with a value or a typed error once the peer hangs up; nothing may reject unhandled.
 */
import { OutgoingBudget } from "../../src/ssh/server/outgoing-budget.js";
import { Connection } from "../../src/ssh/connection/connection.js";
import { MSG } from "../../src/ssh/messages.js";
import { serveSessions } from "../../src/ssh/server/sessions.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { classify, type FuzzTarget } from "../engine.js";
import { joinMessages, splitMessages, sshMessages, tagged, tokens } from "../corpus.js";
import { FakeTransport } from "../fakes.js";

const w = (type: number) => new SshWriter(64).byte(type);
const done = (x: SshWriter) => x.finish().slice();
const SERVER = 1;

export const connection: FuzzTarget = {
  name: "ssh-connection",
  iterations: 40_000,
  maxLength: 8192,
  dict: tokens("session", "subsystem", "sftp", "exit-status", "exit-signal", "keepalive@openssh.com", "direct-tcpip", "exec"),
  seeds: () => {
    const confirm = (window: number) => done(w(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(0).uint32(7).uint32(window).uint32(32768));
    const ch = (type: number) => w(type).uint32(0);
    const client = [
      confirm(1000),
      done(ch(MSG.CHANNEL_WINDOW_ADJUST).uint32(100)),
      done(ch(MSG.CHANNEL_DATA).string("hello")),
      done(ch(MSG.CHANNEL_EXTENDED_DATA).uint32(1).string("stderr")),
      done(ch(MSG.CHANNEL_REQUEST).string("exit-status").boolean(false).uint32(3)),
      done(ch(MSG.CHANNEL_REQUEST).string("exit-signal").boolean(false).string("TERM").boolean(false).string("").string("")),
      done(ch(MSG.CHANNEL_REQUEST).string("keepalive@openssh.com").boolean(true)),
      done(ch(MSG.CHANNEL_SUCCESS)),
      done(ch(MSG.CHANNEL_FAILURE)),
      done(w(MSG.GLOBAL_REQUEST).string("hostkeys-00@openssh.com").boolean(false).string("blob")),
      done(w(MSG.REQUEST_SUCCESS).uint32(1)),
      Uint8Array.of(MSG.REQUEST_FAILURE),
      done(ch(MSG.CHANNEL_EOF)),
      done(ch(MSG.CHANNEL_CLOSE)),
    ];
    const open = (type: string, sender: number) => w(MSG.CHANNEL_OPEN).string(type).uint32(sender).uint32(1 << 20).uint32(32768);
    const server = [
      done(open("session", 3)),
      done(ch(MSG.CHANNEL_REQUEST).string("subsystem").boolean(true).string("sftp")),
      done(ch(MSG.CHANNEL_DATA).raw(Uint8Array.of(0, 0, 0, 9, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8))),
      done(ch(MSG.CHANNEL_REQUEST).string("exec").boolean(true).string("ls")),
      done(open("direct-tcpip", 4).string("localhost").uint32(22).string("1.2.3.4").uint32(5)),
      done(open("session", 5)),
      done(ch(MSG.CHANNEL_REQUEST).string("subsystem").boolean(true).string("nope")),
      done(ch(MSG.CHANNEL_CLOSE)),
    ];
    return [
      tagged(0, joinMessages(client)),
      tagged(2, joinMessages([confirm(0), ...client.slice(1)])),
      tagged(SERVER, joinMessages(server)),
      tagged(SERVER | 4, joinMessages(server)),
      tagged(0, joinMessages(sshMessages(80, 81, 82, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100).slice(0, 24))),
    ];
  },
  run: async (input) => {
    const flags = input[0] ?? 0;
    const t = new FakeTransport();
    const conn = new Connection(t.asTransport());
    t.onMessage = (p) => conn.handle(p);
    const pending: Promise<unknown>[] = [];
    // Handled from the start (allSettled below inspects them once the script is over).
    const track = (p: Promise<unknown>) => {
      p.catch(() => {});
      pending.push(p);
    };
    if (flags & SERVER) {
      serveSessions(conn, { username: "fuzz", remoteAddress: "203.0.113.7", outgoing: new OutgoingBudget().connection() }, {
        subsystems: {
          sftp: (channel) => {
            channel.manualWindow = (flags & 4) !== 0;
            channel.onData = (d) => channel.consumed(d.length >> 1);
            track(channel.write(new Uint8Array(100)));
          },
        },
        maxSessions: 1 + (flags >> 4),
        windowSize: flags & 2 ? 16 : 1 << 20,
      });
    } else {
      track(conn.openSession().then(async (channel) => {
        channel.manualWindow = (flags & 4) !== 0;
        channel.onData = (d) => {
          if (flags & 8) channel.consumed(d.length);
        };
        const writes = [channel.write(new Uint8Array(3000)), channel.request("subsystem", true, (x) => x.string("sftp"))];
        channel.eof();
        await Promise.allSettled(writes).then(check);
        return channel.close();
      }));
      track(conn.globalRequest("keepalive@openssh.com", true));
    }
    await t.deliver(splitMessages(input.subarray(1), 24));
    // Once the peer has hung up, everything pending must fail promptly, not wait forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 100)));
    const settled = await Promise.race([Promise.allSettled(pending), late]);
    clearTimeout(timer);
    if (settled === "late") throw new Error("an open, write or request was still pending 100 ms after the connection closed");
    check(settled);
    if (t.bug !== undefined) throw t.bug;
    // A typed error that ended the connection is this input's outcome.
    if (t.failure) throw t.failure;
    return settled.length;
  },
};

/** Rejections of what the harness awaited must be typed errors too. */
function check(results: PromiseSettledResult<unknown>[]): void {
  for (const r of results) if (r.status === "rejected" && classify(r.reason) !== "typed") throw r.reason;
}

export const targets = [connection];
