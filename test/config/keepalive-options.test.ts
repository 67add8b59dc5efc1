/**
 * Where a connection's keepalive interval comes from (resolveConnectOptions), in ssh(1)'s order:
 * the caller's keepaliveIntervalMs, then ssh_config's ServerAliveInterval / ServerAliveCountMax,
 * then our default. ssh_config(5): "The default is 0, indicating that these messages will not be
 * sent" — so a config that says 0 has asked for no keepalives and must get none, while a config
 * that says nothing gets our default (a silent server must not hang an operation forever).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_KEEPALIVE_INTERVAL_MS, resolveConnectOptions } from "../../src/ssh/connect-options.js";

const dir = mkdtempSync(join(tmpdir(), "keepalive-cfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

/** Resolves options for host "h" with `lines` in a config file of its own (no keys, no agent). */
async function resolve(lines: string[], keepaliveIntervalMs?: number) {
  const file = join(dir, `config${seq++}`);
  writeFileSync(file, ["Host h", "  HostName 127.0.0.1", "  IdentityFile none", "  IdentityAgent none", ...lines.map((l) => `  ${l}`), ""].join("\n"));
  const r = await resolveConnectOptions({ host: "h", username: "u", sshConfig: file, agent: false, keepaliveIntervalMs });
  return { intervalMs: r.keepaliveIntervalMs, countMax: r.keepaliveCountMax };
}

describe("keepalive interval: caller, then ssh_config, then the default", () => {
  it("ServerAliveInterval 0 in the config turns keepalives off", async () => {
    expect((await resolve(["ServerAliveInterval 0"])).intervalMs).toBe(0);
  });

  it("a config that does not mention it gets the default (5 s × 3)", async () => {
    expect(DEFAULT_KEEPALIVE_INTERVAL_MS).toBeGreaterThan(0);
    expect(await resolve([])).toEqual({ intervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS, countMax: 3 });
    // "none" is ssh(1)'s "not set" for a time value (readconf.c stores -1, then the default).
    expect((await resolve(["ServerAliveInterval none"])).intervalMs).toBe(DEFAULT_KEEPALIVE_INTERVAL_MS);
  });

  it("the config's interval (in ssh's time format) and count are used", async () => {
    expect(await resolve(["ServerAliveInterval 1m", "ServerAliveCountMax 7"])).toEqual({ intervalMs: 60_000, countMax: 7 });
  });

  it("the first value obtained wins, as in ssh(1): a later Host * cannot turn an explicit 0 back on", async () => {
    expect((await resolve(["ServerAliveInterval 0", "Host *", "  ServerAliveInterval 9"])).intervalMs).toBe(0);
  });

  it("the caller's keepaliveIntervalMs wins over the config, both ways", async () => {
    expect((await resolve(["ServerAliveInterval 0"], 2500)).intervalMs).toBe(2500);
    expect((await resolve(["ServerAliveInterval 30"], 0)).intervalMs).toBe(0);
  });

  it("with no config at all, the default", async () => {
    const r = await resolveConnectOptions({ host: "127.0.0.1", username: "u", sshConfig: false, agent: false });
    expect(r.keepaliveIntervalMs).toBe(DEFAULT_KEEPALIVE_INTERVAL_MS);
  });
});
