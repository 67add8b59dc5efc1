/**
 * SFTPAccessor against a real OpenSSH sshd: the Accessor contract (shared with DiskAccessor),
 * strict host keys, key login with a username, folder as a prefix, getUrl, fromEnv, dropped
 * connections (through a TCP proxy the test cuts), and Locations moving an image sequence
 * between a disk location and the SFTP location with a fake ftrack session.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { AccessorError } from "../src/accessor/accessor.js";
import { createComponent } from "../src/accessor/components.js";
import { DiskAccessor } from "../src/accessor/disk-accessor.js";
import type { FtrackEntity } from "../src/accessor/ftrack.js";
import { Location } from "../src/accessor/location.js";
import { LocationError } from "../src/accessor/location-error.js";
import { registerSftpLocation } from "../src/accessor/plugin.js";
import { SFTPAccessor, type SFTPAccessorOptions } from "../src/accessor/sftp-accessor.js";
import { StandardStructure } from "../src/accessor/standard-structure.js";
import { connect } from "../src/connect.js";
import { HostKeyError } from "../src/errors.js";
import { SftpClient } from "../src/sftp/client.js";
import { accessorContract, sameBytes } from "../test/accessor/support/accessor-contract.js";
import { startFaultProxy } from "../test/support/fault-proxy.js";
import { FakeSession } from "../test/accessor/support/fake-session.js";
import { baseOptions, describeSshd } from "./helpers.js";
import { startSshd, type SshdServer } from "./sshd.js";

/** A TCP proxy to sshd whose connections the test can cut. */
async function startProxy(port: number) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    /** Drops every connection at once, like a network failure (RST). */
    cut() {
      for (const s of sockets) s.resetAndDestroy();
    },
    /** Stops listening and drops what is still connected. */
    close(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}

describeSshd("SFTPAccessor against OpenSSH", () => {
  let s: SshdServer;
  let admin: SftpClient;
  let home: string;
  let local: string;
  let n = 0;
  const open: SFTPAccessor[] = [];

  const options = (extra: Partial<SFTPAccessorOptions> = {}): SFTPAccessorOptions => ({
    host: s.host, port: s.port, username: s.username, password: s.password,
    hostKeys: { policy: "strict", knownHostsFile: s.knownHostsPath },
    connectOptions: { readyTimeoutMs: 30_000 },
    ...extra,
  });
  const make = (extra: Partial<SFTPAccessorOptions> = {}): SFTPAccessor => {
    const a = new SFTPAccessor(options(extra));
    open.push(a);
    return a;
  };
  /** Folders made in the test user's home (on this disk, as sshd runs here): removed at the end. */
  const made: string[] = [];
  /** A fresh, existing folder relative to the test user's home. */
  const freshFolder = async (): Promise<string> => {
    const folder = `acc-${++n}-${Date.now()}`;
    await admin.mkdir(`${home}/${folder}`);
    made.push(`${home}/${folder}`);
    return folder;
  };

  beforeAll(async () => {
    s = await startSshd();
    admin = await connect(baseOptions(s));
    home = await admin.realpath(".");
    local = await mkdtemp(join(tmpdir(), "accessor-conf-"));
  });
  afterEach(async () => {
    for (const a of open.splice(0)) await a.close();
  });
  afterAll(async () => {
    await admin?.close();
    await s?.stop();
    await rm(local, { recursive: true, force: true });
    for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
  });

  accessorContract(async () => make({ folder: await freshFolder() }));

  it("connects lazily and keeps the folder a prefix (no chdir)", async () => {
    const folder = await freshFolder();
    const a = make({ folder: `~/${folder}/` });
    expect(a.connected).toBe(false);
    await a.makeContainer("proj/v001");
    expect(a.connected).toBe(true);
    const h = await a.open("proj/v001/main.mov", "wb");
    await h.write("x");
    await h.close();
    expect(new TextDecoder().decode(await admin.readFile(`${home}/${folder}/proj/v001/main.mov`))).toBe("x");
    // An absolute folder too.
    const abs = make({ folder: `${home}/${folder}/proj` });
    expect(await abs.list("")).toEqual(["v001"]);
    expect(await abs.getUrl("v001/a b.mov")).toBe(`sftp://${s.username}@127.0.0.1:${s.port}${home}/${folder}/proj/v001/a%20b.mov`);
    expect(await a.getUrl("proj/x.exr")).toBe(`sftp://${s.username}@127.0.0.1:${s.port}/~/${folder}/proj/x.exr`);
    // Without a folder: the login directory.
    const bare = make();
    expect(await bare.isContainer(folder)).toBe(true);
  });

  it("refuses an unknown host key by default, with a typed error", async () => {
    const a = make({ hostKeys: undefined, connectOptions: { readyTimeoutMs: 30_000, hostKeys: { knownHostsFile: join(local, "empty_known_hosts") } } });
    const err = await a.exists("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessorError);
    expect((err as AccessorError).code).toBe("ACCESSOR_CONNECTION_FAILED");
    expect((err as AccessorError).cause).toBeInstanceOf(HostKeyError);
    expect((err as AccessorError).message).toMatch(/SHA256:/);
  });

  it("logs in with a key and the username (the Python package dropped it)", async () => {
    const a = make({ password: undefined, privateKey: s.clientKeys.ed25519 });
    expect(await a.exists("")).toBe(true);
    const wrong = make({ password: undefined, privateKey: s.clientKeys.ed25519, username: "nobody-here" });
    expect(await wrong.exists("").catch((e: AccessorError) => e.code)).toBe("ACCESSOR_CONNECTION_FAILED");
  });

  it("fromEnv: key path, pinned fingerprints, folder", async () => {
    const folder = await freshFolder();
    const env = {
      FTRACK_SFTP_ACCESSOR_HOSTNAME: s.host,
      FTRACK_SFTP_ACCESSOR_PORT: String(s.port),
      FTRACK_SFTP_ACCESSOR_USERNAME: s.username,
      FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: s.clientKeyPaths.rsa,
      FTRACK_SFTP_ACCESSOR_FOLDER: folder,
      FTRACK_SFTP_ACCESSOR_KNOWN_HOSTS: join(local, "does-not-exist"),
      FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT: s.hostKeys.map((k) => k.fingerprint).join(","),
    };
    const a = SFTPAccessor.fromEnv(env);
    open.push(a);
    expect(a.folder).toBe(folder);
    await a.makeContainer("from-env");
    expect(await a.list("")).toEqual(["from-env"]);
    // Key text and password variants; no pin and an empty known_hosts: refused.
    const b = SFTPAccessor.fromEnv({ ...env, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: s.clientKeys.ecdsa });
    open.push(b);
    expect(await b.isContainer("from-env")).toBe(true);
    const c = SFTPAccessor.fromEnv({ ...env, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: "", FTRACK_SFTP_ACCESSOR_PASSWORD: s.password, FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT: "" });
    open.push(c);
    expect(await c.exists("").catch((e: AccessorError) => e.code)).toBe("ACCESSOR_CONNECTION_FAILED");
    expect(() => SFTPAccessor.fromEnv({ FTRACK_SFTP_ACCESSOR_PORT: "22" })).toThrow(/HOSTNAME/);
    expect(() => SFTPAccessor.fromEnv({ ...env, FTRACK_SFTP_ACCESSOR_PORT: "ssh" })).toThrow(/PORT/);
    expect(() => SFTPAccessor.fromEnv({ ...env, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: join(local, "missing_key") })).toThrow(/PRIVATE_KEY/);
  });

  it("maps server errors: missing file, permission denied", async () => {
    const folder = await freshFolder();
    const a = make({ folder });
    expect(await a.open("missing.exr").catch((e: AccessorError) => e.code)).toBe("ACCESSOR_RESOURCE_NOT_FOUND");
    await admin.writeFile(`${home}/${folder}/locked`, "secret");
    await admin.chmod(`${home}/${folder}/locked`, 0o000);
    expect(await a.open("locked").catch((e: AccessorError) => e.code)).toBe("ACCESSOR_PERMISSION_DENIED");
    await admin.chmod(`${home}/${folder}/locked`, 0o600);
  });

  it("reconnects after a dropped connection; a transfer cut mid-way fails clearly, leaves nothing, and a retry succeeds", async () => {
    const proxy = await startProxy(s.port);
    try {
      const folder = await freshFolder();
      const pins = { policy: "strict" as const, knownHostsFile: join(local, "none"), fingerprints: s.hostKeys.map((k) => k.fingerprint) };
      const sftp = make({ port: proxy.port, hostKeys: pins, folder });
      await sftp.makeContainer("a");
      proxy.cut();
      await new Promise((r) => setTimeout(r, 50));
      expect(await sftp.isContainer("a")).toBe(true); // transparently reconnected
      expect(proxy.connections).toBe(2);

      // A Location transfer from disk that loses the connection half-way.
      const session = new FakeSession();
      const { version } = session.memory.seedVersion({ project: "show", contexts: [["Shot", "sh010"]], asset: "plate", version: 3 });
      const diskRoot = join(local, `disk-${n}`);
      const src = join(local, `src-${n}`);
      await mkdir(src, { recursive: true });
      const frames = Array.from({ length: 10 }, (_, i) => new Uint8Array(600_000).map((_, j) => (i * 7 + j) & 0xff));
      for (const [i, f] of frames.entries()) await writeFile(join(src, `img.${String(i + 1).padStart(4, "0")}.exr`), f);
      const disk = await Location.ensure(session, "disk", { accessor: new DiskAccessor({ prefix: diskRoot }), structure: new StandardStructure({ session }) });
      const seq = await createComponent(session, { id: version.id }, join(src, "img.%04d.exr [1-10]"), { location: disk });
      const remote = await registerSftpLocation(session, { accessor: sftp });

      let cut = false;
      const err = await remote.addComponent(seq, disk, {
        onProgress: (p) => {
          if (!cut && p.bytesDone > 3_000_000) {
            cut = true;
            proxy.cut();
          }
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LocationError);
      expect((err as LocationError).code).toBe("LOCATION_TRANSFER_FAILED");
      expect((err as LocationError).message).toMatch(/connection .* was lost/);
      expect(((err as LocationError).cause as AccessorError).code).toBe("ACCESSOR_CONNECTION_FAILED");
      expect([...session.memory.rows.values()].filter((r) => r.__entity_type__ === "ComponentLocation" && r.location_id === remote.id)).toEqual([]);
      const dir = `${home}/${folder}/show/sh010/plate/v003`;
      // Nothing partial under a final name. A temporary file being written when the connection
      // died cannot be removed until the accessor reconnects; the retry below must clean it up.
      // A frame whose RENAME sshd carried out as the connection died is there whole (no client
      // can learn of that commit; the retry adopts it, as the next test shows): the cut comes at
      // a frame's end when 5 frames of 600,000 bytes are 3,000,000, so that happens. What is there
      // must be whole.
      const left = (await admin.list(dir).catch(() => [])).map((e) => e.name).filter((name) => !/^\..*\.part$/.test(name));
      for (const name of left) {
        const i = Number(/\.(\d{4})\.exr$/.exec(name)?.[1]) - 1;
        expect(sameBytes(await admin.readFile(`${dir}/${name}`), frames[i]!)).toBe(true);
      }

      await remote.addComponent(seq, disk);
      const names = (await admin.list(dir)).map((e) => e.name).sort();
      expect(names).toEqual(frames.map((_, i) => `main.${String(i + 1).padStart(4, "0")}.exr`));
      for (const [i, f] of frames.entries()) expect(sameBytes(await admin.readFile(`${dir}/${names[i]}`), f)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("a connection lost at the final rename: the retry adopts its own committed copy and records it", async () => {
    // The accessor's RENAME reaches sshd, which commits the file, but the reply never comes back
    // (the fault proxy swallows everything from sshd from that moment): the client sees a lost
    // connection for a file that is in fact in place, unrecorded (issue #17, item 4).
    const proxy = await startFaultProxy({ targetPort: s.port });
    try {
      const folder = await freshFolder();
      const pins = { policy: "strict" as const, knownHostsFile: join(local, "none"), fingerprints: s.hostKeys.map((k) => k.fingerprint) };
      let renames = 0;
      let muteAtRename = 0;
      const sftp = make({
        port: proxy.port, hostKeys: pins, folder, connectOptions: { readyTimeoutMs: 30_000, keepaliveIntervalMs: 200 },
        connect: async (o) => {
          const c = await connect(o);
          const rename = c.rename.bind(c);
          c.rename = (from, to, opts) => {
            if (++renames === muteAtRename) proxy.mute("down");
            return rename(from, to, opts);
          };
          return c;
        },
      });
      const session = new FakeSession();
      const { version } = session.memory.seedVersion({ project: "show", contexts: [["Shot", "sh020"]], asset: "plate", version: 1 });
      const src = join(local, `race-${n}`);
      await mkdir(src, { recursive: true });
      const frames = Array.from({ length: 3 }, (_, i) => new Uint8Array(300_000).map((_, j) => (i * 11 + j * 7) & 0xff));
      for (const [i, f] of frames.entries()) await writeFile(join(src, `img.${String(i + 1).padStart(4, "0")}.exr`), f);
      const disk = await Location.ensure(session, "disk", { accessor: new DiskAccessor({ prefix: join(local, `race-disk-${n}`) }), structure: new StandardStructure({ session }) });
      const seq = await createComponent(session, { id: version.id }, join(src, "img.%04d.exr [1-3]"), { location: disk });
      const remote = await registerSftpLocation(session, { accessor: sftp });
      const recorded = () => [...session.memory.rows.values()].filter((r) => r.__entity_type__ === "ComponentLocation" && r.location_id === remote.id);
      const dir = `${home}/${folder}/show/sh020/plate/v001`;

      muteAtRename = 2; // the second frame's commit
      const err = await remote.addComponent(seq, disk, { concurrency: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LocationError);
      expect((err as LocationError).code).toBe("LOCATION_TRANSFER_FAILED");
      expect(recorded()).toEqual([]);
      // sshd did the rename: frame 2 is complete under its final name, though the attempt failed
      // (and rolled back frame 1, which it knew it had written).
      expect(sameBytes(await admin.readFile(`${dir}/main.0002.exr`), frames[1]!)).toBe(true);
      expect((await admin.list(dir)).map((e) => e.name).filter((name) => !name.startsWith("."))).toEqual(["main.0002.exr"]);

      // The retry, on a new connection: frame 2 is recognised as its own (same bytes), not
      // LOCATION_DATA_EXISTS, and the component is recorded once, complete.
      const done = await remote.addComponent(seq, disk, { concurrency: 1 });
      expect(done).toHaveLength(4); // the sequence and its three members
      expect(recorded()).toHaveLength(4);
      const names = (await admin.list(dir)).map((e) => e.name).sort();
      expect(names).toEqual(["main.0001.exr", "main.0002.exr", "main.0003.exr"]); // no temporary file left either
      for (const [i, f] of frames.entries()) expect(sameBytes(await admin.readFile(`${dir}/${names[i]}`), f)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("moves an image sequence disk → SFTP → disk through Locations; second component; removal", async () => {
    const folder = await freshFolder();
    const session = new FakeSession();
    const { version } = session.memory.seedVersion({ project: "film", fullName: "The Film", contexts: [["Sequence", "SQ01"], ["Shot", "SH0010"]], asset: "Comp", version: 12 });
    const v: FtrackEntity = { __entity_type__: "AssetVersion", id: version.id };
    const src = join(local, `seq-${n}`);
    await mkdir(src);
    const frames = Array.from({ length: 5 }, (_, i) => new TextEncoder().encode(`frame ${i + 1}\n`.repeat(100 * (i + 1))));
    for (const [i, f] of frames.entries()) await writeFile(join(src, `comp.${1001 + i}.exr`), f);
    await writeFile(join(src, "comp.mov"), "quicktime");

    const studio = await registerSftpLocation(session, options({ folder }));
    open.push(studio.accessor as SFTPAccessor);
    const connectLoc = await Location.ensure(session, "ftrack.connect", { accessor: new DiskAccessor({ prefix: join(local, `connect-${n}`) }), structure: new StandardStructure({ session }) });

    // Upload straight from local paths (Python: version.create_component(path, location=location)).
    const seq = await createComponent(session, v, join(src, "comp.%04d.exr [1001-1005]"), { location: studio, name: "comp" });
    // A second component on the same version (failed in the Python package).
    const mov = await createComponent(session, v, join(src, "comp.mov"), { location: studio, name: "review" });
    const base = "film/sq01/sh0010/comp/v012";
    expect(await studio.getResourceIdentifier(seq)).toBe(`${base}/comp.%04d.exr`);
    expect(await studio.getUrl(mov)).toBe(`sftp://${s.username}@127.0.0.1:${s.port}/~/${folder}/${base}/review.mov`);
    expect(await studio.accessor!.isSequence(`${base}/comp.%04d.exr`)).toBe(true);
    expect((await admin.list(`${home}/${folder}/${base}`)).map((e) => e.name).sort()).toEqual(
      ["comp.1001.exr", "comp.1002.exr", "comp.1003.exr", "comp.1004.exr", "comp.1005.exr", "review.mov"]);

    // And back to the local (Connect) location.
    await connectLoc.addComponents([seq, mov], studio);
    for (const [i, f] of frames.entries()) {
      expect(sameBytes(await readFile(join(local, `connect-${n}`, base, `comp.${1001 + i}.exr`)), f)).toBe(true);
    }
    expect(await readFile(join(local, `connect-${n}`, base, "review.mov"), "utf8")).toBe("quicktime");

    // Removal: members, then the sequence; then the file; the version folder stays (as Python).
    await studio.removeComponents([seq, mov]);
    expect(await admin.list(`${home}/${folder}/${base}`)).toEqual([]);
    await studio.accessor!.remove(base);
    expect(await studio.accessor!.exists(base)).toBe(false);

    // A ContainerComponent: a directory, removed with the component.
    const docs = join(local, `docs-${n}`);
    await mkdir(docs);
    await writeFile(join(docs, "a.pdf"), "A");
    const container = (await session.create("ContainerComponent", { name: "Docs", version_id: version.id })).data;
    await session.create("FileComponent", { name: "a", file_type: ".pdf", container_id: container.id });
    await studio.addComponent(container, docs);
    expect((await admin.list(`${home}/${folder}/${base}/docs`)).map((e) => e.name)).toEqual(["a.pdf"]);
    await studio.removeComponent(container);
    expect(await studio.accessor!.exists(`${base}/docs`)).toBe(false);
    expect(await readdir(docs)).toEqual(["a.pdf"]);
  });

  it("Location copies between disk and SFTP go through upload()/download() with the default streams", async () => {
    const folder = await freshFolder();
    const session = new FakeSession();
    const { version } = session.memory.seedVersion({ project: "show", contexts: [["Shot", "sh020"]], asset: "plate", version: 1 });
    const src = join(local, `path-${n}`);
    await mkdir(src);
    const frames = Array.from({ length: 3 }, (_, i) => new Uint8Array(300_000 + i).map((_, j) => (i * 13 + j) & 0xff));
    for (const [i, f] of frames.entries()) await writeFile(join(src, `img.${1001 + i}.exr`), f);
    const studio = await registerSftpLocation(session, options({ folder }));
    open.push(studio.accessor as SFTPAccessor);
    const back = await Location.ensure(session, "back", { accessor: new DiskAccessor({ prefix: join(local, `back-${n}`) }), structure: new StandardStructure({ session }) });
    const up = vi.spyOn(SftpClient.prototype, "upload");
    const down = vi.spyOn(SftpClient.prototype, "download");
    try {
      const seq = await createComponent(session, { id: version.id }, join(src, "img.%04d.exr [1001-1003]"), { location: studio });
      expect(up).toHaveBeenCalledTimes(3);
      // The caller's defaults: no streams given, so "auto", as for upload() and uploadDir().
      for (const call of up.mock.calls) expect(call[2]?.streams).toBeUndefined();
      // Copied at once, the members went over sessions (channel windows) of their own.
      expect(new Set(up.mock.instances).size).toBeGreaterThan(1);
      let last = 0;
      await back.addComponent(seq, studio, { onProgress: (p) => (last = p.bytesDone) });
      expect(down).toHaveBeenCalledTimes(3);
      expect(new Set(down.mock.instances).size).toBeGreaterThan(1);
      expect(last).toBe(frames.reduce((a, f) => a + f.length, 0));
      const base = join(local, `back-${n}`, "show/sh020/plate/v001");
      for (const [i, f] of frames.entries()) expect(sameBytes(await readFile(join(base, `main.${1001 + i}.exr`)), f)).toBe(true);
      expect((await readdir(base)).filter((f) => f.endsWith(".part"))).toEqual([]);
    } finally {
      up.mockRestore();
      down.mockRestore();
    }
  });
});
