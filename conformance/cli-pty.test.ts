/**
 * The puresftp CLI's progress display and password prompt in a real pseudo-terminal (util-linux
 * `script`, else tmux), against a real OpenSSH sshd (setup: cli-fixture.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveTools } from "../test/support/tools.js";
import { describeSshd } from "./helpers.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { cliFixture, has, MAIN, shq, TSX } from "./cli-fixture.js";

describeSshd("puresftp CLI in a pseudo-terminal, against OpenSSH", () => {
  const fixture = cliFixture();
  const { env, cli, conn, R } = fixture;
  let s: SshdServer;
  let local: string; // local scratch
  let base: string; // remote scratch, relative to the login directory
  beforeAll(() => void ({ s, local, base } = fixture.state()));

  describe("in a pseudo-terminal", () => {
    // CLI_TEST_PTY=script|tmux picks one (to check both); by default script, else tmux, else skip.
    const wanted = process.env.CLI_TEST_PTY;
    const pty = wanted === "script" || wanted === "tmux" ? (has(wanted) ? wanted : undefined) : has("script") ? "script" : has("tmux") ? "tmux" : undefined;
    // Neither installed: skipped here with the reason; in CI haveTools throws (tmux is installed there).
    const itPty = pty !== undefined || haveTools("tmux") ? it : it.skip;

    /** Runs a shell command line in a PTY; resolves with everything the terminal showed. */
    const inPty = (command: string, onOutput?: (text: string, write: (s: string) => void) => void): Promise<{ code: number | null; screen: string }> => {
      if (pty === "script") {
        return new Promise((done, fail) => {
          const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { cwd: local, env: env({ COLUMNS: "100", LINES: "30" }), stdio: ["pipe", "pipe", "pipe"] });
          let screen = "";
          child.stdout.on("data", (d: Buffer) => {
            screen += d.toString("utf8");
            onOutput?.(screen, (t) => child.stdin.write(t));
          });
          child.stderr.on("data", (d: Buffer) => (screen += d.toString("utf8")));
          child.on("error", fail);
          child.on("close", (code) => done({ code, screen }));
        });
      }
      // tmux: run detached with the pane's output piped to a file (the raw stream, as `script`
      // gives it), poll that file, send keys when asked.
      return (async () => {
        const name = `cli-${process.pid}-${Date.now()}`;
        const out = join(local, `${name}.out`);
        await writeFile(out, "");
        const tmux = (...a: string[]) => spawnSync("tmux", a, { encoding: "utf8", env: env() });
        tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", `sleep 0.5; ${command}; echo "EXIT=$?"; sleep 60`);
        tmux("pipe-pane", "-t", name, "-o", `cat >> ${shq(out)}`);
        try {
          for (let i = 0; i < 600; i++) {
            await new Promise((r) => setTimeout(r, 100));
            const screen = await readFile(out, "utf8");
            onOutput?.(screen, (t) => {
              tmux("send-keys", "-t", name, "-l", t.replace(/\r$/, ""));
              tmux("send-keys", "-t", name, "Enter");
            });
            const m = /EXIT=(\d+)/.exec(screen);
            if (m) return { code: Number(m[1]), screen };
          }
          throw new Error("the command did not finish in the terminal");
        } finally {
          tmux("kill-session", "-t", name);
        }
      })();
    };

    const cmdLine = (args: string[], envVars: Record<string, string> = {}) =>
      [...Object.entries(envVars).map(([k, v]) => `${k}=${shq(v)}`), shq(TSX), shq(MAIN), ...args.map(shq)].join(" ");

    itPty("draws per-file and total bars on a terminal, nothing when piped", async () => {
      const dir = join(local, "bars");
      await mkdir(dir);
      await writeFile(join(dir, "big1.bin"), new Uint8Array(8 * 1024 * 1024));
      await writeFile(join(dir, "big2.bin"), new Uint8Array(8 * 1024 * 1024));
      const args = ["put", "-r", ...conn(), dir, R(base)];

      const tty = await inPty(cmdLine(args));
      expect(tty.code, tty.screen).toBe(0);
      expect(tty.screen).toContain("total (");
      expect(tty.screen).toMatch(/big[12]\.bin/);
      expect(tty.screen).toMatch(/100%/);
      expect(tty.screen).toMatch(/[█░]/); // the bar itself

      // Same command with stderr on a pipe: nothing at all on stderr.
      const piped = await cli(args);
      expect(piped).toEqual({ code: 0, stdout: "", stderr: "" });

      // --json and -q switch the display off on a terminal too.
      const quiet = await inPty(cmdLine(["-q", ...args]));
      expect(quiet.code).toBe(0);
      expect(quiet.screen).not.toMatch(/[█░]|total \(/);
      const asJson = await inPty(cmdLine(["--json", ...args]));
      expect(asJson.code).toBe(0);
      expect(asJson.screen).not.toMatch(/[█░]|total \(/);
      expect(asJson.screen).toContain('"bytes":16777216');
    });

    itPty("asks for the password on a terminal without echoing it, and retries", async () => {
      let step = 0;
      const r = await inPty(cmdLine(["ls", "-p", String(s.port), "-o", `UserKnownHostsFile=${s.knownHostsPath}`, R(base)]), (screen, write) => {
        const prompts = screen.split("password:").length - 1;
        if (prompts === 1 && step === 0) {
          step = 1;
          write("wrong secret\r");
        } else if (prompts === 2 && step === 1) {
          step = 2;
          write(`${s.password}\r`);
        }
      });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).toContain(`${s.username}@127.0.0.1's password:`);
      expect(r.screen).toContain("Permission denied, please try again.");
      expect(r.screen).not.toContain("wrong secret");
      expect(r.screen).not.toContain(s.password);
    });

    itPty("asks for an encrypted key's passphrase on a terminal; PURESFTP_PASSPHRASE without one", async () => {
      // The test key, re-encrypted: same public key, so the server already accepts it.
      const enc = join(local, "encrypted_key");
      await writeFile(enc, await readFile(s.clientKeyPaths.ed25519), { mode: 0o600 });
      const kg = spawnSync("ssh-keygen", ["-q", "-p", "-f", enc, "-P", "", "-N", "key secret 7"], { encoding: "utf8" });
      expect(kg.status, kg.stderr).toBe(0);
      const args = ["ls", "-p", String(s.port), "-i", enc, "-o", `UserKnownHostsFile=${s.knownHostsPath}`, R(base)];

      const noTty = await cli(args);
      expect(noTty.code).toBe(5);
      expect(noTty.stderr).toContain("PURESFTP_PASSPHRASE");
      expect((await cli(args, { PURESFTP_PASSPHRASE: "key secret 7" })).code).toBe(0);
      expect((await cli(args, { PURESFTP_PASSPHRASE: "wrong" })).code).toBe(5);

      let sent = false;
      const r = await inPty(cmdLine(args), (screen, write) => {
        if (!sent && screen.includes(`Enter passphrase for key '${enc}':`)) {
          sent = true;
          write("key secret 7\r");
        }
      });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).not.toContain("key secret 7");
    });

    describe("with PAM keyboard-interactive only", () => {
      let pam: SshdServer;
      beforeAll(async () => {
        pam = await startSshd({ extraConfig: ["UsePAM yes", "PasswordAuthentication no"] });
      }, 120_000);
      afterAll(async () => {
        await pam?.stop();
      });

      itPty("answers the server's prompts at the terminal without echo", async () => {
        let sent = false;
        const r = await inPty(cmdLine(["--json", "ls", "-p", String(pam.port), "-o", `UserKnownHostsFile=${pam.knownHostsPath}`, `${pam.username}@127.0.0.1:`]), (screen, write) => {
          if (!sent && /password:\s*$/i.test(screen)) {
            sent = true;
            write(`${pam.password}\r`);
          }
        });
        expect(r.code, r.screen).toBe(0);
        expect(r.screen).toMatch(/Password: ?/i);
        expect(r.screen).not.toContain(pam.password);
        expect(r.screen).toContain('"entries":');

        // No terminal: nothing can answer, exit 5.
        const piped = await cli(["ls", "-p", String(pam.port), "-o", `UserKnownHostsFile=${pam.knownHostsPath}`, `${pam.username}@127.0.0.1:`]);
        expect(piped.code).toBe(5);
      });
    });
  });
});
