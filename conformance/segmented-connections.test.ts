/**
 * Segmented transfers over several SSH connections (`connections`) and "auto" on a long link,
 * against OpenSSH through a fault proxy (test/support/fault-proxy.ts): the extra connections are
 * their own TCP connections through the proxy, host-key checked against the proxy's known_hosts
 * entry like the first, and one of them can be cut mid-transfer.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { connect } from "../src/connect.js";
import type { SftpClient } from "../src/sftp/client.js";
import { randomBytes, sha256 } from "../test/sftp/client-contract.js";
import { watchSessions } from "../test/sftp/segmented-contract.js";
import { startFaultProxy, type FaultProxy } from "../test/support/fault-proxy.js";
import { baseOptions, describeSshd } from "./helpers.js";
import { startSshd, type SshdServer } from "./sshd.js";

const MiB = 1024 * 1024;
const SLOW = { maxInFlight: 1 };

describeSshd("segmented transfers over several connections, against OpenSSH", () => {
  let s: SshdServer;
  let proxy: FaultProxy;
  let knownHostsFile: string;
  let local: string;
  let home: string;
  let dir: string;
  let n = 0;
  const clients: SftpClient[] = [];

  /** A client through `p` (the fault proxy unless another is given). */
  async function client(p: FaultProxy = proxy): Promise<SftpClient> {
    const c = await connect(baseOptions(s, { port: p.port, hostKeys: { policy: "strict", knownHostsFile } }));
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    s = await startSshd();
    // 10 ms round trips and one request in flight per stream (SLOW) hold each stream to about
    // 25 MB/s, so the extra connection is up while ranges remain, however fast this machine is.
    proxy = await startFaultProxy({ targetPort: s.port, delayMs: { up: 5, down: 5 } });
    local = await mkdtemp(join(tmpdir(), "seg-conn-"));
    // The proxy is another port: known_hosts names the same keys there too.
    const lines = (await readFile(s.knownHostsPath, "utf8")).split("\n").filter(Boolean);
    knownHostsFile = join(local, "known_hosts");
    await writeFile(knownHostsFile, lines.map((l) => l.replace(`[127.0.0.1]:${s.port}`, `[127.0.0.1]:${proxy.port}`)).join("\n") + "\n");
    const c = await client();
    home = await c.realpath(".");
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await proxy?.close();
    await s?.stop();
    await rm(local, { recursive: true, force: true });
  });
  beforeEach(async () => {
    proxy.setFaults({});
    const made = (dir = `${home}/c${++n}-${Date.now()}`);
    await clients[0]!.mkdir(made);
    // sshd runs here: its user's home is on this disk, and every run would leave its files there.
    return () => rm(made, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  /** The sessions a transfer opens, and the connections under them that are not `main`'s. */
  function watch(main: SftpClient) {
    const sessions = watchSessions();
    return { sessions, extra: () => [...new Set(sessions.opened.map((c) => c.ssh).filter((ssh) => ssh !== main.ssh))] };
  }

  it("spreads the streams over two connections each way, byte-identical, and closes the extra one", { timeout: 120_000 }, async () => {
    const sftp = await client();
    const data = randomBytes(40 * MiB + 777);
    await writeFile(join(local, "two.bin"), data);
    const before = proxy.connections;
    const w = watch(sftp);
    await sftp.upload(join(local, "two.bin"), `${dir}/two.bin`, { ...SLOW, streams: 4, connections: 2 });
    expect(proxy.connections - before).toBe(1);
    expect(w.extra()).toHaveLength(1);
    expect(w.extra().every((ssh) => ssh.closed)).toBe(true);
    expect(sha256(await readFile(`${dir}/two.bin`))).toBe(sha256(data));
    await sftp.download(`${dir}/two.bin`, join(local, "two.down"), { ...SLOW, streams: 4, connections: 2 });
    expect(proxy.connections - before).toBe(2);
    expect(w.extra()).toHaveLength(2);
    expect(w.extra().every((ssh) => ssh.closed)).toBe(true);
    expect(sha256(await readFile(join(local, "two.down")))).toBe(sha256(data));
    // The client's own connection carries on.
    expect(await sftp.exists(`${dir}/two.bin`)).toBe(true);
  });

  for (const direction of ["up", "down"] as const) {
    it(`retries on the other lanes the ranges of a connection cut mid-transfer (${direction}load), byte-identical`, { timeout: 120_000 }, async () => {
      const sftp = await client();
      // Large enough that the extra connection, ready after its handshake, still finds ranges.
      const data = randomBytes(64 * MiB);
      await writeFile(join(local, "cut.bin"), data);
      await writeFile(`${dir}/cut.bin`, data);
      // Connections accepted from now on (the extra one) are reset 3 MiB into the transfer's direction.
      proxy.setFaults({ [direction]: { kind: "reset", at: 3 * MiB } });
      const fired = proxy.faultsFired;
      const w = watch(sftp);
      if (direction === "up") await sftp.upload(join(local, "cut.bin"), `${dir}/cut.up`, { ...SLOW, streams: 4, connections: 2 });
      else await sftp.download(`${dir}/cut.bin`, join(local, "cut.down"), { ...SLOW, streams: 4, connections: 2 });
      expect(proxy.faultsFired - fired).toBe(1);
      expect(w.extra()).toHaveLength(1);
      expect(w.extra()[0]!.closed).toBe(true);
      const got = direction === "up" ? await readFile(`${dir}/cut.up`) : await readFile(join(local, "cut.down"));
      expect(sha256(got)).toBe(sha256(data));
      expect(sftp.ssh.closed).toBe(false);
    });
  }

  it("goes on with the client's own connection when another cannot be opened", { timeout: 120_000 }, async () => {
    const sftp = await client();
    const data = randomBytes(20 * MiB);
    await writeFile(join(local, "nocon.bin"), data);
    // Every new connection is reset in the middle of its handshake.
    proxy.setFaults({ up: { kind: "reset", at: 100 } });
    const [before, fired] = [proxy.connections, proxy.faultsFired];
    const w = watch(sftp);
    await sftp.upload(join(local, "nocon.bin"), `${dir}/nocon.bin`, { ...SLOW, streams: 4, connections: 3 });
    expect(proxy.connections - before).toBe(2);
    expect(proxy.faultsFired - fired).toBe(2);
    expect(w.sessions.opened.length).toBeGreaterThan(0);
    expect(w.sessions.opened.every((c) => c.ssh === sftp.ssh)).toBe(true);
    expect(sha256(await readFile(`${dir}/nocon.bin`))).toBe(sha256(data));
  });

  it("an aborted transfer over two connections rejects with ABORTED, leaves nothing behind and closes the extra one", { timeout: 120_000 }, async () => {
    const sftp = await client();
    const data = randomBytes(32 * MiB);
    await writeFile(join(local, "abort.bin"), data);
    const w = watch(sftp);
    const ac = new AbortController();
    const onProgress = (p: { transferred: number }) => void (p.transferred > 8 * MiB && ac.abort(new Error("cut")));
    await expect(sftp.upload(join(local, "abort.bin"), `${dir}/abort.bin`, { ...SLOW, streams: 4, connections: 2, signal: ac.signal, onProgress })).rejects.toMatchObject({ code: "ABORTED" });
    expect(w.extra().every((ssh) => ssh.closed)).toBe(true);
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual([]);
  });

  it('"auto" opens enough streams at once where sshd\'s window holds one back (100 ms round trip)', { timeout: 120_000 }, async () => {
    const slow = await startFaultProxy({ targetPort: s.port, delayMs: { up: 50, down: 50 } });
    try {
      const lines = (await readFile(knownHostsFile, "utf8")).split("\n").filter(Boolean);
      await writeFile(knownHostsFile, [...lines, ...lines.map((l) => l.replace(`[127.0.0.1]:${proxy.port}`, `[127.0.0.1]:${slow.port}`))].join("\n") + "\n");
      const sftp = await client(slow);
      // The round trip is at least the proxy's 100 ms: 2 MiB / 100 ms needs 7 streams for
      // 128 MiB/s. A 24 MiB file has 6 ranges: the client's session and 5 more, all opened
      // together (one by one, each after a measured window, would take seconds).
      const data = randomBytes(24 * MiB);
      await writeFile(join(local, "auto.bin"), data);
      const w = watch(sftp);
      await sftp.upload(join(local, "auto.bin"), `${dir}/auto.bin`);
      expect(w.sessions.opened).toHaveLength(5);
      expect(sha256(await readFile(`${dir}/auto.bin`))).toBe(sha256(data));
      await sftp.close();
    } finally {
      await slow.close();
    }
  });
});
