/**
 * ftrack.server ↔ studio.sftp with studio.sftp on a real OpenSSH sshd: a sequence uploaded to
 * the fake ftrack storage (test/accessor/support/fake-file-store.ts) in parts, through
 * @ftrack/api's real Session, copied to the SFTP server, removed from ftrack.server and
 * uploaded again from the SFTP server, with a storage that drops connections on the way.
 */
import { Session } from "@ftrack/api";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createComponent } from "../src/accessor/components.js";
import type { FtrackEntity } from "../src/accessor/ftrack.js";
import { registerSftpLocation } from "../src/accessor/plugin.js";
import { SERVER_LOCATION_ID, SERVER_LOCATION_NAME } from "../src/accessor/server-accessor.js";
import { registerServerLocation } from "../src/accessor/server-location.js";
import { SFTPAccessor } from "../src/accessor/sftp-accessor.js";
import { connect } from "../src/connect.js";
import type { SftpClient } from "../src/sftp/client.js";
import { sameBytes } from "../test/accessor/support/accessor-contract.js";
import { API_KEY, API_USER, startFileStore, type FileStore } from "../test/accessor/support/fake-file-store.js";
import { baseOptions, describeSshd } from "./helpers.js";
import { startSshd, type SshdServer } from "./sshd.js";

describeSshd("ftrack.server ↔ studio.sftp on OpenSSH", () => {
  let s: SshdServer;
  let admin: SftpClient;
  let store: FileStore;
  let local: string;
  const made: string[] = [];

  beforeAll(async () => {
    s = await startSshd();
    admin = await connect(baseOptions(s));
    store = await startFileStore();
    store.memory.add("Location", { id: SERVER_LOCATION_ID, name: SERVER_LOCATION_NAME });
    local = await mkdtemp(join(tmpdir(), "server-location-conf-"));
  });
  afterAll(async () => {
    await admin?.close();
    await s?.stop();
    await store?.close();
    await rm(local, { recursive: true, force: true });
    // Folders made in the test user's home: on this disk, as sshd runs here.
    for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("moves a sequence both ways, retrying dropped parts and reads", async () => {
    const home = await admin.realpath(".");
    const folder = `server-loc-${Date.now()}`;
    await admin.mkdir(`${home}/${folder}`);
    made.push(`${home}/${folder}`);
    const session = new Session(store.url, API_USER, API_KEY, { decodeDatesAsIso: true });
    await session.initializing;
    const { version } = store.memory.seedVersion({ project: "film", contexts: [["Shot", "sh020"]], asset: "plate", version: 5 });
    const frames = Array.from({ length: 4 }, (_, i) => new Uint8Array(700 * 1024 + i).map((_, j) => (j * 11 + i) & 0xff));
    for (const [i, f] of frames.entries()) await writeFile(join(local, `plate.${1001 + i}.exr`), f);

    const server = await registerServerLocation(session, { partSize: 128 * 1024, baseDelayMs: 5, maxDelayMs: 50 });
    const studio = await registerSftpLocation(session, {
      accessor: new SFTPAccessor({ host: s.host, port: s.port, username: s.username, password: s.password, folder, hostKeys: { policy: "strict", knownHostsFile: s.knownHostsPath } }),
    });
    try {
      store.fail("part", "drop", 2);
      store.fail("part", "503");
      const seq = await createComponent(session, { id: version.id }, join(local, "plate.%04d.exr [1001-1004]"), { location: server, name: "plate" });
      const members = seq.members as FtrackEntity[];
      for (const [i, m] of members.entries()) expect(sameBytes(store.files.get(m.id as string)!, frames[i]!)).toBe(true);

      store.fail("get", "cut-body");
      store.redirect = true;
      await studio.addComponent(seq, server);
      const dir = `${home}/${folder}/film/sh020/plate/v005`;
      for (const [i, f] of frames.entries()) expect(sameBytes(await admin.readFile(`${dir}/plate.${1001 + i}.exr`), f)).toBe(true);

      await server.removeComponent(seq);
      expect(members.some((m) => store.files.has(m.id as string))).toBe(false);
      await server.addComponent(seq, studio);
      for (const [i, m] of members.entries()) expect(sameBytes(store.files.get(m.id as string)!, frames[i]!)).toBe(true);
      expect(await server.getComponentAvailability(seq)).toBe(100);
    } finally {
      store.redirect = false;
      await studio.accessor?.close();
    }
  });
});
