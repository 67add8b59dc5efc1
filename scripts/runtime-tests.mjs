#!/usr/bin/env node
/**
 * `npm run test:bun` / `npm run test:deno`: the suite every runtime must pass, run by vitest
 * under Bun or Deno, after a header line naming the runtime and its version so CI output shows
 * each runtime's pass count under its name. One file list for both runtimes. Extra arguments
 * go to vitest after it (`npm run test:deno -- -t "re-exchange"`, `-- --reporter=verbose`).
 *
 *   node scripts/runtime-tests.mjs bun|deno [vitest arguments...]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** vitest filters (path substrings): everything under test/, and these conformance suites. */
const FILES = [
  "test/",
  // Our client against OpenSSH's sshd: logins and errors, the end-to-end subset (password and
  // key, strict host keys, list, 64 MiB each way, streams), every SftpClient method against
  // internal-sftp and sftp-server, transfers and resume, every key format and certificates,
  // jump hosts, rekeying, the ftrack accessor and ftrack.server <-> studio.sftp transfers.
  "conformance/transport.test.ts",
  "conformance/runtime-e2e.test.ts",
  "conformance/sftp.test.ts",
  "conformance/sftp-transfers.test.ts",
  "conformance/auth.test.ts",
  "conformance/certificates.test.ts",
  "conformance/jump.test.ts",
  "conformance/rekey.test.ts",
  "conformance/accessor.test.ts",
  "conformance/server-location.test.ts",
  // OpenSSH's ssh and sftp against the embedded server running on this runtime.
  "conformance/server-openssh.test.ts",
];

/**
 * Left to the Node run, where they run too:
 * - test/demo.test.ts spawns `node --import tsx demo/demo.ts`: Node whatever runs the test.
 * - conformance/cli.test.ts: the CLI is a Node program (its bin runs on node), spawned via tsx.
 * - conformance/matrix.test.ts and openssh10.test.ts: every kex x cipher/MAC x host key against
 *   OpenSSH (thousands of sessions); the algorithms are the same code everywhere and are
 *   covered per runtime by test/server/transport-roles.test.ts (each kex, cipher and MAC).
 * - conformance/sshd.test.ts: checks the test harness (sshd, ssh-keygen), not the library.
 * - test/faults/embedded.test.ts and sshd.test.ts: their cases already run on all three runtimes
 *   (each case is a child process on Node, Bun or Deno, spawned by the Node run), and the
 *   deterministic queued-replies case runs here too. test/faults/cli.test.ts spawns the CLI, a
 *   Node program, like conformance/cli.test.ts.
 */
const EXCLUDE = ["test/demo.test.ts", "test/faults/embedded.test.ts", "test/faults/sshd.test.ts", "test/faults/cli.test.ts"];

const RUNTIMES = {
  bun: { name: "Bun", version: ["--version"], run: ["--bun", "x", "vitest", "run"], exclude: [] },
  deno: {
    name: "Deno",
    version: ["--version"],
    run: ["run", "-A", "node_modules/vitest/vitest.mjs", "run"],
    // Runs the packed package with process.execPath and Node's `--input-type=module -e`, which
    // deno does not take (Bun does): to come back once that check runs a file instead.
    exclude: ["test/security/package.test.ts"],
  },
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [which, ...extra] = process.argv.slice(2);
const runtime = RUNTIMES[which];
if (!runtime) {
  console.error(`usage: node scripts/runtime-tests.mjs ${Object.keys(RUNTIMES).join("|")} [vitest arguments...]`);
  process.exit(2);
}
// The devDependency's binary, else whatever is on PATH.
const local = join(root, "node_modules", ".bin", which);
const bin = existsSync(local) ? local : which;

const probe = spawnSync(bin, runtime.version, { cwd: root, encoding: "utf8" });
if (probe.status !== 0) {
  console.error(`== ${runtime.name}: cannot run ${bin} ${runtime.version.join(" ")}: ${probe.error?.message ?? probe.stderr} ==`);
  process.exit(1);
}
// "1.4.5" (bun) or "deno 2.9.5 (stable, ...)\nv8 ...": the first version number.
const version = probe.stdout.match(/\d+\.\d+\.\d+\S*/)?.[0] ?? probe.stdout.trim();
console.log(`\n== ${runtime.name} ${version} ==\n`);

const args = [...runtime.run, ...FILES, ...[...EXCLUDE, ...runtime.exclude].flatMap((e) => ["--exclude", e]), ...extra];
const result = spawnSync(bin, args, { cwd: root, stdio: "inherit" });
if (result.error) console.error(`== ${runtime.name}: ${result.error.message} ==`);
process.exit(result.status ?? 1);
