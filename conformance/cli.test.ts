/**
 * The puresftp CLI as a subprocess against a real OpenSSH sshd (setup: cli-fixture.ts): every
 * command, --json output parsed, exit codes (missing file 3, permission 4, wrong password 5,
 * unknown host key 6, refused connection 7), ~/.ssh/config, -o options, -J, and the ftrack
 * commands against a fake ftrack server. The terminal display is in cli-pty.test.ts.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SftpClient } from "../src/sftp/client.js";
import { startFtrackServer, type FtrackServer } from "../test/accessor/support/fake-session.js";
import { describeSshd } from "./helpers.js";
import type { SshdServer } from "./sshd.js";
import { cliFixture, freePort, randomBytes, sha256 } from "./cli-fixture.js";

describeSshd("puresftp CLI against OpenSSH", () => {
  const fixture = cliFixture();
  const { env, cli, conn, R, json, jsonError } = fixture;
  let s: SshdServer;
  let admin: SftpClient;
  let home: string; // HOME of the CLI runs
  let local: string; // local scratch
  let base: string; // remote scratch, relative to the login directory
  let emptyKnownHosts: string;
  beforeAll(() => void ({ s, admin, home, local, base, emptyKnownHosts } = fixture.state()));

  describe("file commands", () => {
    it("mkdir -p, then put a file and read it back with get", async () => {
      const made = json(await cli(["--json", "mkdir", "-p", ...conn("-P"), R(`${base}/a/b`), R(`${base}/c`)]));
      expect(made).toEqual({ created: [`${base}/a/b`, `${base}/c`] });
      expect((await admin.stat(`${base}/a/b`)).isDirectory()).toBe(true);

      const data = randomBytes(300_000);
      await writeFile(join(local, "one.bin"), data);
      const put = json(await cli(["--json", "put", ...conn(), join(local, "one.bin"), R(`${base}/a/`)]));
      expect(put).toMatchObject({ files: [{ from: join(local, "one.bin"), to: `${base}/a/one.bin`, size: 300_000 }], bytes: 300_000, skipped: [] });
      expect(sha256(await admin.readFile(`${base}/a/one.bin`))).toBe(sha256(data));

      const got = json(await cli(["--json", "get", ...conn(), R(`${base}/a/one.bin`), join(local, "copy.bin")]));
      expect(got).toMatchObject({ files: [{ from: `${base}/a/one.bin`, to: join(local, "copy.bin"), size: 300_000 }], bytes: 300_000 });
      expect(sha256(await readFile(join(local, "copy.bin")))).toBe(sha256(data));

      // -n: a file carried by several SFTP sessions, each way.
      const big = randomBytes(17 * 1024 * 1024);
      await writeFile(join(local, "big.bin"), big);
      json(await cli(["--json", "put", "-n", "3", ...conn(), join(local, "big.bin"), R(`${base}/a/big.bin`)]));
      expect(sha256(await admin.readFile(`${base}/a/big.bin`))).toBe(sha256(big));
      json(await cli(["--json", "get", "--streams", "3", ...conn(), R(`${base}/a/big.bin`), join(local, "big.copy")]));
      expect(sha256(await readFile(join(local, "big.copy")))).toBe(sha256(big));
      // --connections: the streams spread over two SSH connections.
      json(await cli(["--json", "get", "-n", "4", "--connections", "2", ...conn(), R(`${base}/a/big.bin`), join(local, "big.two")]));
      expect(sha256(await readFile(join(local, "big.two")))).toBe(sha256(big));

      // Human mode prints nothing on success (no progress on a pipe either).
      const quiet = await cli(["get", ...conn(), R(`${base}/a/one.bin`)]);
      expect(quiet).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(sha256(await readFile(join(local, "one.bin")))).toBe(sha256(data));
    });

    it("put -r and get -r copy trees; without -r a directory is refused", async () => {
      const tree = join(local, "tree");
      await mkdir(join(tree, "sub", "deeper"), { recursive: true });
      await writeFile(join(tree, "top.txt"), "top");
      await writeFile(join(tree, "sub", "mid.txt"), "mid");
      await writeFile(join(tree, "sub", "deeper", "low.txt"), "low");
      await symlink("top.txt", join(tree, "link"));

      const noR = await cli(["put", ...conn(), tree, R(base)]);
      expect(noR.code).toBe(1);
      expect(noR.stderr).toContain("is a directory (use put -r)");

      const up = json(await cli(["--json", "put", "-r", ...conn(), tree, R(base)]));
      expect((up.files as unknown[]).length).toBe(3);
      expect(up.skipped).toEqual([join(tree, "link")]);
      expect(new TextDecoder().decode(await admin.readFile(`${base}/tree/sub/deeper/low.txt`))).toBe("low");

      const down = json(await cli(["--json", "get", "-r", ...conn(), R(`${base}/tree`), join(local, "back")]));
      expect(down.bytes).toBe(9);
      expect(await readFile(join(local, "back", "sub", "mid.txt"), "utf8")).toBe("mid");
      expect((await readdir(join(local, "back"))).sort()).toEqual(["sub", "top.txt"]);

      const getDir = await cli(["get", ...conn(), R(`${base}/tree`)]);
      expect(getDir.code).toBe(1);
      expect(getDir.stderr).toContain("is a directory (use get -r)");
    });

    it("ls, ls -l, ls -a and --json", async () => {
      await admin.mkdir(`${base}/ls`);
      await admin.writeFile(`${base}/ls/b.txt`, "bbbb");
      await admin.writeFile(`${base}/ls/a.txt`, "a", { mode: 0o640 });
      await admin.writeFile(`${base}/ls/.hidden`, "");
      await admin.symlink("a.txt", `${base}/ls/to-a`);

      const plain = await cli(["ls", ...conn(), R(`${base}/ls`)]);
      expect(plain.code).toBe(0);
      expect(plain.stdout).toBe("a.txt\nb.txt\nto-a\n");
      expect((await cli(["ls", "-a", ...conn(), R(`${base}/ls`)])).stdout).toBe(".hidden\na.txt\nb.txt\nto-a\n");

      const long = await cli(["ls", "-l", ...conn(), R(`${base}/ls`)]);
      const lines = long.stdout.trim().split("\n");
      expect(lines[0]).toMatch(new RegExp(`^-rw-r----- ${s.username} \\S+ +1 \\w{3} [ \\d]\\d [\\d:]{4,5} +a\\.txt$`));
      expect(lines[2]).toMatch(/^lrwxrwxrwx .* to-a -> a\.txt$/);

      const listed = json(await cli(["--json", "ls", "-l", ...conn(), R(`${base}/ls`)]));
      expect(listed.path).toBe(`${base}/ls`);
      const entries = listed.entries as { name: string; type: string; size: number; permissions: string; owner: string; target?: string }[];
      expect(entries.map((e) => e.name)).toEqual(["a.txt", "b.txt", "to-a"]);
      expect(entries[0]).toMatchObject({ type: "file", size: 1, permissions: "-rw-r-----", owner: s.username });
      expect(entries[2]).toMatchObject({ type: "symlink", target: "a.txt" });

      // A file operand lists just the file; an empty path is the login directory.
      const one = json(await cli(["--json", "ls", ...conn(), R(`${base}/ls/b.txt`)]));
      expect(one.entries).toMatchObject([{ name: `${base}/ls/b.txt`, size: 4 }]);
      const top = await cli(["ls", ...conn(), R("")]);
      expect(top.stdout.split("\n")).toContain(base);
    });

    it("stat, stat -L and ln -s, hard ln", async () => {
      await admin.writeFile(`${base}/st.txt`, "12345", { mode: 0o600 });
      const st = json(await cli(["--json", "stat", ...conn(), R(`${base}/st.txt`)]));
      expect(st).toMatchObject({ path: `${base}/st.txt`, name: "st.txt", type: "file", size: 5, permissions: "-rw-------", mode: 0o100600 });
      expect(typeof st.mtime).toBe("number");

      const made = json(await cli(["--json", "ln", "-s", ...conn(), "st.txt", R(`${base}/st-link`)]));
      expect(made).toEqual({ target: "st.txt", link: `${base}/st-link`, symbolic: true });
      expect(await admin.readlink(`${base}/st-link`)).toBe("st.txt");

      const lst = json(await cli(["--json", "stat", ...conn(), R(`${base}/st-link`)]));
      expect(lst).toMatchObject({ type: "symlink", target: "st.txt" });
      const followed = json(await cli(["--json", "stat", "-L", ...conn(), R(`${base}/st-link`)]));
      expect(followed).toMatchObject({ type: "file", size: 5 });

      const several = json(await cli(["--json", "stat", ...conn(), R(`${base}/st.txt`), R(`${base}/st-link`)]));
      expect(Array.isArray(several)).toBe(true);

      const human = await cli(["stat", ...conn(), R(`${base}/st.txt`)]);
      expect(human.stdout).toContain(`  File: ${base}/st.txt`);
      expect(human.stdout).toContain("Access: (0600/-rw-------)");

      json(await cli(["--json", "ln", ...conn(), R(`${base}/st.txt`), `${base}/st-hard`]));
      expect(new TextDecoder().decode(await admin.readFile(`${base}/st-hard`))).toBe("12345");
    });

    it("mv renames, moves into a directory, and -f replaces", async () => {
      await admin.writeFile(`${base}/mv1.txt`, "one");
      await admin.writeFile(`${base}/mv2.txt`, "two");
      await admin.mkdir(`${base}/mvdir`);
      expect(json(await cli(["--json", "mv", ...conn(), R(`${base}/mv1.txt`), `${base}/moved.txt`]))).toEqual({ from: `${base}/mv1.txt`, to: `${base}/moved.txt` });
      expect(await admin.exists(`${base}/moved.txt`)).toBe(true);
      expect(json(await cli(["--json", "mv", ...conn(), R(`${base}/moved.txt`), R(`${base}/mvdir`)])).to).toBe(`${base}/mvdir/moved.txt`);
      const clash = await cli(["mv", ...conn(), R(`${base}/mv2.txt`), R(`${base}/mvdir/moved.txt`)]);
      expect(clash.code).not.toBe(0);
      json(await cli(["--json", "mv", "-f", ...conn(), R(`${base}/mv2.txt`), R(`${base}/mvdir/moved.txt`)]));
      expect(new TextDecoder().decode(await admin.readFile(`${base}/mvdir/moved.txt`))).toBe("two");
    });

    it("rm, rm -r, rm -f, rmdir", async () => {
      await admin.mkdir(`${base}/rm/full`, { recursive: true });
      await admin.writeFile(`${base}/rm/full/x`, "x");
      await admin.writeFile(`${base}/rm/f.txt`, "f");
      await admin.mkdir(`${base}/rm/empty`);

      expect(json(await cli(["--json", "rm", ...conn(), R(`${base}/rm/f.txt`)]))).toEqual({ removed: [`${base}/rm/f.txt`] });
      const dir = await cli(["rm", ...conn(), R(`${base}/rm/full`)]);
      expect(dir.code).toBe(1);
      expect(dir.stderr).toContain("is a directory");
      const notEmpty = await cli(["rmdir", ...conn(), R(`${base}/rm/full`)]);
      expect(notEmpty.code).toBe(1);
      json(await cli(["--json", "rm", "-r", ...conn(), R(`${base}/rm/full`)]));
      expect(await admin.exists(`${base}/rm/full`)).toBe(false);
      expect(json(await cli(["--json", "rmdir", ...conn(), R(`${base}/rm/empty`)]))).toEqual({ removed: [`${base}/rm/empty`] });
      expect(json(await cli(["--json", "rm", "-f", ...conn(), R(`${base}/rm/never-was`)]))).toEqual({ removed: [] });
    });

    it("df reports the file system (statvfs)", async () => {
      const d = json(await cli(["--json", "df", ...conn(), R(base)]));
      expect(d).toMatchObject({ path: base, readOnly: false });
      expect(d.size).toBeGreaterThan(0);
      expect(d.available).toBeLessThanOrEqual(d.size as number);
      const human = await cli(["df", "-h", ...conn(), R(base)]);
      expect(human.stdout).toMatch(/^Size\s+Used\s+Avail\s+Use%\s+Path\n\S+\s+\S+\s+\S+\s+\d+%\s+/);
    });
  });

  describe("exit codes", () => {
    it("3 for a missing remote file, with the JSON error on stderr", async () => {
      for (const args of [["get", R(`${base}/missing.bin`), join(local, "x")], ["ls", R(`${base}/missing`)], ["stat", R(`${base}/missing`)], ["rm", R(`${base}/missing`)]]) {
        const r = await cli(["--json", args[0]!, ...conn(), ...args.slice(1)]);
        expect(r.code, args.join(" ")).toBe(3);
        expect(r.stdout).toBe("");
        expect(jsonError(r).error).toMatchObject({ code: "NO_SUCH_FILE", exitCode: 3 });
      }
      const human = await cli(["get", ...conn(), R(`${base}/missing.bin`)]);
      expect(human.code).toBe(3);
      expect(human.stderr).toMatch(/^puresftp: .*No such file/);
    });

    it("4 for permission denied", async () => {
      const r = await cli(["--json", "get", ...conn(), R("/etc/shadow"), join(local, "shadow")]);
      expect(r.code).toBe(4);
      expect(jsonError(r).error).toMatchObject({ code: "PERMISSION_DENIED", exitCode: 4 });
    });

    it("5 for a wrong password; the right one from PURESFTP_PASSWORD works", async () => {
      const noKey = ["-p", String(s.port), "-o", `UserKnownHostsFile=${s.knownHostsPath}`];
      const wrong = await cli(["--json", "ls", ...noKey, R("")], { PURESFTP_PASSWORD: "not the password" });
      expect(wrong.code).toBe(5);
      const e = jsonError(wrong).error;
      expect(e).toMatchObject({ code: "AUTH_FAILED", exitCode: 5 });
      expect(e.methodsTried).toContain("password");
      expect(e.message).not.toContain("not the password");

      const right = await cli(["ls", ...noKey, R(base)], { PURESFTP_PASSWORD: s.password });
      expect(right.code, right.stderr).toBe(0);

      // No credentials and no terminal to ask on: exit 5 with advice, no hanging prompt.
      const none = await cli(["ls", ...noKey, R("")]);
      expect(none.code).toBe(5);
      expect(none.stderr).toContain("PURESFTP_PASSWORD");
    });

    it("6 for an unknown host key (strict by default); accept-new records it", async () => {
      const unknown = await cli(["--json", "ls", "-p", String(s.port), "-i", s.clientKeyPaths.ed25519, "-o", `UserKnownHostsFile=${emptyKnownHosts}`, R("")]);
      expect(unknown.code).toBe(6);
      const e = jsonError(unknown).error;
      expect(e).toMatchObject({ code: "HOST_KEY_UNKNOWN", exitCode: 6 });
      expect(s.hostKeys.map((k) => k.fingerprint)).toContain(e.fingerprint);
      expect(e.message).toContain("StrictHostKeyChecking=accept-new");
      // The default known_hosts (~/.ssh/known_hosts of the private HOME) does not exist either.
      const noFile = await cli(["ls", "-p", String(s.port), "-i", s.clientKeyPaths.ed25519, R("")]);
      expect(noFile.code).toBe(6);

      const fresh = join(local, "fresh_known_hosts");
      const first = await cli(["ls", "-p", String(s.port), "-i", s.clientKeyPaths.ed25519, "-o", `UserKnownHostsFile=${fresh}`, "-o", "StrictHostKeyChecking=accept-new", R(base)]);
      expect(first.code, first.stderr).toBe(0);
      expect(await readFile(fresh, "utf8")).toMatch(/^\|1\|/); // hashed entry
      const again = await cli(["ls", "-p", String(s.port), "-i", s.clientKeyPaths.ed25519, "-o", `UserKnownHostsFile=${fresh}`, R(base)]);
      expect(again.code, again.stderr).toBe(0);
    });

    it("7 when the connection fails", async () => {
      const port = await freePort();
      const r = await cli(["--json", "ls", "-p", String(port), "-i", s.clientKeyPaths.ed25519, R("")]);
      expect(r.code).toBe(7);
      expect(jsonError(r).error).toMatchObject({ code: "CONNECTION_REFUSED", exitCode: 7 });
    });
  });

  describe("connection options", () => {
    it("-o Ciphers / KexAlgorithms / MACs / HostKeyAlgorithms are used (-v shows what was negotiated)", async () => {
      const r = await cli(["-v", "ls", ...conn(), "-o", "Ciphers=aes256-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com", "-o", "KexAlgorithms=ecdh-sha2-nistp256",
        "-o", "HostKeyAlgorithms=ssh-ed25519", R(base)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("kex ecdh-sha2-nistp256");
      expect(r.stderr).toContain("client->server cipher aes256-ctr");
      expect(r.stderr).toContain("mac hmac-sha2-256-etm@openssh.com");
      expect(r.stderr).toMatch(/host key ssh-ed25519 SHA256:/);
      expect(r.stderr).toMatch(/debug: crypto auto: client->server aes-ctr: \S+.*; server->client aes-ctr: \S+/);
      const plus = await cli(["-v", "ls", ...conn(), "-o", "Ciphers=^aes128-ctr", R(base)]);
      expect(plus.stderr).toContain("client->server cipher aes128-ctr");
      const bad = await cli(["ls", ...conn(), "-o", "Ciphers=3des-cbc", R(base)]);
      expect(bad.code).toBe(2);
    });

    it("-v shows which implementation protects each direction, for every command that connects", async () => {
      const v = `${base}/verbose`;
      await writeFile(join(local, "v.txt"), "v");
      const commands = [
        ["mkdir", R(v)], ["put", join(local, "v.txt"), R(`${v}/v.txt`)], ["ls", R(v)], ["stat", R(`${v}/v.txt`)],
        ["get", R(`${v}/v.txt`), join(local, "v-back.txt")], ["ln", "-s", "v.txt", R(`${v}/link`)], ["mv", R(`${v}/link`), `${v}/link2`],
        ["df", R(v)], ["rm", R(`${v}/v.txt`), R(`${v}/link2`)], ["rmdir", R(v)],
      ];
      for (const [command, ...rest] of commands) {
        const r = await cli(["-v", command!, ...conn("-P"), ...rest]);
        expect(r.code, `${command}: ${r.stderr}`).toBe(0);
        expect(r.stderr, command).toMatch(/debug: crypto auto: client->server [a-z0-9-]+: \S+.*; server->client [a-z0-9-]+: \S+/);
      }
    });

    it("~/.ssh/config is honoured: Host alias, HostName, Port, User, IdentityFile, UserKnownHostsFile", async () => {
      await mkdir(join(home, ".ssh"), { recursive: true });
      await writeFile(join(home, ".ssh", "config"), [
        "Host testbox",
        "  HostName 127.0.0.1",
        `  Port ${s.port}`,
        `  User ${s.username}`,
        `  IdentityFile ${s.clientKeyPaths.ed25519}`,
        `  UserKnownHostsFile ${s.knownHostsPath}`,
        "",
      ].join("\n"));
      try {
        const r = await cli(["--json", "ls", `testbox:${base}`]);
        expect(r.code, r.stderr).toBe(0);
        // -F none ignores it: "testbox" is then an unknown host name.
        const none = await cli(["ls", "-F", "none", "-o", "ConnectTimeout=5", `testbox:${base}`]);
        expect(none.code).toBe(7);
      } finally {
        await rm(join(home, ".ssh", "config"));
      }
    });

    it("uses ssh-agent keys from SSH_AUTH_SOCK", async () => {
      const sock = join(local, "agent.sock");
      const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
      try {
        for (let i = 0; i < 100 && !(await readdir(local)).includes("agent.sock"); i++) await new Promise((r) => setTimeout(r, 50));
        const add = spawnSync("ssh-add", [s.clientKeyPaths.rsa], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: "utf8" });
        expect(add.status, add.stderr).toBe(0);
        const noKey = ["-p", String(s.port), "-o", `UserKnownHostsFile=${s.knownHostsPath}`, R(base)];
        const r = await cli(["ls", ...noKey], { SSH_AUTH_SOCK: sock });
        expect(r.code, r.stderr).toBe(0);
        // A stale SSH_AUTH_SOCK is ignored, not an error: then there is no key (exit 5).
        const stale = await cli(["ls", ...noKey], { SSH_AUTH_SOCK: join(local, "no-such.sock") });
        expect(stale.code).toBe(5);
      } finally {
        agent.kill();
      }
    });

    it("-J connects through a jump host", async () => {
      const r = await cli(["--json", "ls", ...conn(), "-J", `${s.username}@127.0.0.1:${s.port}`, R(base)]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).path).toBe(base);
    });
  });

  describe("ftrack commands", () => {
    let ftrack: FtrackServer;
    let ftrackEnv: Record<string, string>;
    beforeAll(async () => {
      ftrack = await startFtrackServer();
      ftrackEnv = {
        FTRACK_SERVER: ftrack.url,
        FTRACK_API_USER: "api.user",
        FTRACK_API_KEY: "secret",
        FTRACK_SFTP_ACCESSOR_HOSTNAME: "127.0.0.1",
        FTRACK_SFTP_ACCESSOR_PORT: String(s.port),
        FTRACK_SFTP_ACCESSOR_USERNAME: s.username,
        FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: s.clientKeyPaths.ed25519,
        FTRACK_SFTP_ACCESSOR_KNOWN_HOSTS: s.knownHostsPath,
        FTRACK_SFTP_ACCESSOR_FOLDER: `${base}/studio`,
      };
    });
    afterAll(async () => {
      await ftrack?.close();
    });

    it("upload puts a sequence into studio.sftp; transfer copies it to a disk location", async () => {
      const m = ftrack.memory;
      m.add("User", { username: "api.user" });
      const { version } = m.seedVersion({ project: "show", contexts: [["Sequence", "sq01"], ["Shot", "sh010"]], asset: "comp", version: 4 });
      const frames = join(local, "frames");
      await mkdir(frames);
      for (let i = 1001; i <= 1003; i++) await writeFile(join(frames, `comp.${i}.exr`), `frame ${i}`);

      const up = json(await cli(["--json", "ftrack", "upload", version.id as string, `${frames}/comp.%04d.exr [1001-1003]`], ftrackEnv));
      expect(up).toMatchObject({ location: "studio.sftp", resourceIdentifier: "show/sq01/sh010/comp/v004/main.%04d.exr", files: 3 });
      const componentId = (up.component as { id: string; type: string }).id;
      expect((up.component as { type: string }).type).toBe("SequenceComponent");
      expect(new TextDecoder().decode(await admin.readFile(`${base}/studio/show/sq01/sh010/comp/v004/main.1002.exr`))).toBe("frame 1002");

      const disk = join(local, "disk");
      const moved = json(await cli(["--json", "ftrack", "transfer", componentId, "--from", "studio.sftp", "--to", `local.disk=${disk}`], ftrackEnv));
      expect(moved).toMatchObject({ from: "studio.sftp", to: "local.disk", components: [{ id: componentId, status: "transferred" }] });
      expect(await readFile(join(disk, "show/sq01/sh010/comp/v004/main.1003.exr"), "utf8")).toBe("frame 1003");

      const again = json(await cli(["--json", "ftrack", "transfer", componentId, "--from", "studio.sftp", "--to", `local.disk=${disk}`], ftrackEnv));
      expect(again).toMatchObject({ components: [{ status: "already-present" }] });

      const missing = await cli(["--json", "ftrack", "transfer", "no-such-id", "--from", "studio.sftp", "--to", `local.disk=${disk}`], ftrackEnv);
      expect(missing.code).toBe(3);
      const noVersion = await cli(["ftrack", "upload", "no-such-version", join(frames, "comp.1001.exr")], ftrackEnv);
      expect(noVersion.code).toBe(3);
    });

    it("a studio.sftp whose host key is not trusted fails with exit 6", async () => {
      const m = ftrack.memory;
      const { version } = m.seedVersion({ project: "show2", asset: "plate", version: 1 });
      await writeFile(join(local, "plate.mov"), "movie");
      const r = await cli(["--json", "ftrack", "upload", version.id as string, join(local, "plate.mov")], { ...ftrackEnv, FTRACK_SFTP_ACCESSOR_KNOWN_HOSTS: emptyKnownHosts });
      expect(r.code).toBe(6);
    });
  });

});
