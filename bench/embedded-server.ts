/**
 * The embedded SFTP server in a process of its own, for bench/embedded.ts: its CPU is then
 * measured the way sshd's is, and nothing else of the bench runs in it. Argument: JSON
 * { root, authorizedKeys, crypto? }. Prints `READY {"port":…,"hostKeyLine":"ssh-ed25519 …"}` and
 * serves until its stdin closes.
 */
import { createSftpServer } from "../src/sftp/server/index.js";
import { generateEd25519Key } from "../src/ssh/keys/private-key.js";
import { publicKeyLine } from "../src/ssh/keys/public-key.js";

const args = JSON.parse(process.argv[2] ?? "{}") as { root: string; authorizedKeys: string; crypto?: "auto" | "pure" | "native" };
const hostKey = generateEd25519Key("bench-embedded");
const server = await createSftpServer({
  hostKeys: [hostKey],
  root: args.root,
  authorizedKeys: args.authorizedKeys,
  authMethods: ["publickey"],
  crypto: args.crypto ?? "auto",
});
process.stdout.write(`READY ${JSON.stringify({ port: server.port, hostKeyLine: publicKeyLine(hostKey.publicKey) })}\n`);
process.stdin.resume();
process.stdin.on("end", () => void server.close().finally(() => process.exit(0)));
