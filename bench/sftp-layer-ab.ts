/**
 * A/B of the SFTP layer's CPU per small writeFile, with no network, crypto or server: each
 * checkout's SftpClient runs over a Channel whose peer (this file) answers every request as soon
 * as the turn's data is handed over (OPEN with a handle, LSTAT with "No such file", anything else
 * with "Success"; replies delivered on setImmediate, each as its own chunk, as sshd mostly sends
 * them). What it measures is what small-files-ab.ts cannot separate from the transport, socket and
 * sshd: request encoding, the channel's send queue, reply decoding, promises and the writeFile /
 * atomic-write logic. The peer's own work (framing requests, encoding replies) is included and
 * is the same for both checkouts.
 *
 *   npx tsx bench/sftp-layer-ab.ts --a=/tmp/old-checkout --b=. [--rounds=10] [--files=2000] [--modes=atomic,plain]
 *
 * Rounds run A, B, A, B … in one process after three untimed rounds each; prints µs of process
 * CPU per file (median and minimum) per checkout and mode. Speed is never asserted.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { median } from "./common.js";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const checkouts = [path.resolve(arg("a", ".")), path.resolve(arg("b", "."))];
const rounds = Number(arg("rounds", "10"));
const n = Number(arg("files", "2000"));
const modes = arg("modes", "atomic,plain").split(",");
const concurrency = 16;

interface Client { writeFile(path: string, data: Uint8Array, options: { atomic: boolean }): Promise<void> }

/** One checkout's SftpClient over a channel to an instant in-process peer. */
async function clientOf(dir: string): Promise<Client> {
  const imp = (p: string) => import(pathToFileURL(path.join(dir, p)).href);
  const { Channel } = await imp("src/ssh/connection/channel.ts");
  const { SftpSession } = await imp("src/sftp/session.ts");
  const { SftpClient } = await imp("src/sftp/client.ts");
  const { SftpFramer } = await imp("src/sftp/framing.ts");
  const { encodeVersion } = await imp("src/sftp/packets/init.ts");
  const { encodeHandle, encodeStatus } = await imp("src/sftp/packets/response.ts");
  const framer = new SftpFramer(0xffffffff);
  let replies: Uint8Array[] = [];
  let handles = 0;
  const deliver = () => {
    const out = replies;
    replies = [];
    for (const r of out) channel.handleData(r);
  };
  const reply = (p: Uint8Array) => {
    if (replies.push(p) === 1) setImmediate(deliver);
  };
  const host = {
    send(...parts: Uint8Array[]) {
      const type = parts[0]![0];
      if (type === 98) return void setImmediate(() => channel.handleRequestReply(true)); // CHANNEL_REQUEST (subsystem)
      if (type !== 94) return; // only CHANNEL_DATA carries SFTP
      for (let i = 1; i < parts.length; i++) framer.push(parts[i]!.slice()); // parts are the sender's until it returns
      for (let p: Uint8Array | undefined = framer.next(); p; p = framer.next()) {
        if (p[0] === 1) {
          reply(encodeVersion(3, [{ name: "posix-rename@openssh.com", data: "1" }]));
          continue;
        }
        const id = new DataView(p.buffer, p.byteOffset + 1, 4).getUint32(0);
        if (p[0] === 3) reply(encodeHandle(id, { handle: Uint8Array.of(0, 0, 0, handles++ & 255) }));
        else if (p[0] === 7) reply(encodeStatus(id, { code: 2, message: "No such file", lang: "" }));
        else reply(encodeStatus(id, { code: 0, message: "Success", lang: "" }));
      }
    },
    release() {},
    beforeWrite: (f: () => void) => void setImmediate(f),
  };
  const channel = new Channel(host, 0, 0, 2 ** 30, 32768);
  const session = await SftpSession.start(channel, { requestTimeoutMs: 0 });
  return new SftpClient(undefined, session) as Client;
}

const data = new Uint8Array(4096);
/** µs of process CPU per file for one round of n files, `concurrency` at a time. */
async function round(c: Client, atomic: boolean, tag: string): Promise<number> {
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < n; i = next++) await c.writeFile(`/home/user/small-files/${tag}/f${i}`, data, { atomic });
  }));
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

const clients = await Promise.all(checkouts.map(clientOf));
for (const mode of modes) {
  const us: number[][] = [[], []];
  for (let w = 0; w < 3; w++) for (let i = 0; i < 2; i++) await round(clients[i]!, mode === "atomic", `warm${w}`);
  for (let r = 0; r < rounds; r++) for (let i = 0; i < 2; i++) us[i]!.push(await round(clients[i]!, mode === "atomic", `r${r}`));
  for (let i = 0; i < 2; i++) {
    console.log(`${"AB"[i]} ${mode.padEnd(6)} ${median(us[i]!).toFixed(1)} µs CPU per file (min ${Math.min(...us[i]!).toFixed(1)}; each: ${us[i]!.map((x) => x.toFixed(1)).join(", ")})`);
  }
  console.log(`B / A ${mode}: ${(median(us[1]!) / median(us[0]!)).toFixed(2)}× the CPU per file (medians)`);
}
console.log(`A = ${checkouts[0]}\nB = ${checkouts[1]}`);
