/** The ftrack command pieces with a fake session: configuration, location specs, the action listener. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import { Location } from "../../src/accessor/location.js";
import { SERVER_LOCATION_ID, SERVER_LOCATION_NAME } from "../../src/accessor/server-accessor.js";
import { ServerLocation } from "../../src/accessor/server-location.js";
import { StandardStructure } from "../../src/accessor/standard-structure.js";
import { UNMANAGED_LOCATION_ID, UNMANAGED_LOCATION_NAME } from "../../src/accessor/unmanaged-location.js";
import { UsageError } from "../../src/cli/errors.js";
import { ftrackConfig, openLocation, parseLocationSpec, runActionListener } from "../../src/cli/ftrack.js";
import { API_KEY, API_USER, startFileStore } from "../accessor/support/fake-file-store.js";
import { FakeSession } from "../accessor/support/fake-session.js";
import { PASSWORD, startTestServer, USER } from "../server/helpers.js";
import { runCli } from "./support/run-main.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "cli-ftrack-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("configuration", () => {
  it("reads FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY", () => {
    expect(ftrackConfig({ FTRACK_SERVER: " https://studio.ftrackapp.com ", FTRACK_API_USER: "bot", FTRACK_API_KEY: "k" }))
      .toEqual({ server: "https://studio.ftrackapp.com", user: "bot", key: "k" });
    expect(() => ftrackConfig({})).toThrow(/FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY are not set/);
    expect(() => ftrackConfig({ FTRACK_SERVER: "x", FTRACK_API_USER: "u", FTRACK_API_KEY: "  " })).toThrow(/FTRACK_API_KEY is not set/);
  });

  it("parses NAME and NAME=DIR locations", () => {
    expect(parseLocationSpec("studio.sftp")).toEqual({ name: "studio.sftp" });
    expect(parseLocationSpec("ftrack.connect=/mnt/ftrack")).toEqual({ name: "ftrack.connect", prefix: "/mnt/ftrack" });
    expect(() => parseLocationSpec("=x")).toThrow(UsageError);
    expect(() => parseLocationSpec("a=")).toThrow(/DIR is empty/);
  });

  it("opens disk, studio.sftp, ftrack.server and ftrack.unmanaged locations, refuses others", async () => {
    const session = new FakeSession();
    const disk = await openLocation(session, { name: "local.disk", prefix: tmp }, {});
    expect(disk.name).toBe("local.disk");
    expect(disk.accessor).toBeInstanceOf(DiskAccessor);
    const sftp = await openLocation(session, { name: "studio.sftp" }, { FTRACK_SFTP_ACCESSOR_HOSTNAME: "127.0.0.1", FTRACK_SFTP_ACCESSOR_PORT: "1" });
    expect(sftp.name).toBe("studio.sftp");
    expect(sftp.priority).toBe(30);
    await sftp.accessor?.close();
    await expect(openLocation(session, { name: "other.place" }, {})).rejects.toThrow(/write other.place=DIR/);
    // ftrack.server needs the Session's credentials (an @ftrack/api Session has them).
    await expect(openLocation(session, { name: "ftrack.server" }, {})).rejects.toMatchObject({ code: "ACCESSOR_CONFIGURATION" });
    session.memory.add("Location", { id: SERVER_LOCATION_ID, name: SERVER_LOCATION_NAME });
    session.memory.add("Location", { id: UNMANAGED_LOCATION_ID, name: UNMANAGED_LOCATION_NAME });
    const withKeys = Object.assign(session, { serverUrl: "https://studio.ftrackapp.com", apiUser: "bot", apiKey: "k" });
    const server = await openLocation(withKeys, { name: "ftrack.server" }, {});
    expect(server).toBeInstanceOf(ServerLocation);
    expect(server.id).toBe(SERVER_LOCATION_ID);
    const unmanaged = await openLocation(session, { name: "ftrack.unmanaged" }, {});
    expect(unmanaged.managesData).toBe(false);
    // studio.sftp without FTRACK_SFTP_ACCESSOR_HOSTNAME: a configuration error naming the variable.
    await expect(openLocation(session, { name: "studio.sftp" }, {})).rejects.toThrow(/FTRACK_SFTP_ACCESSOR_HOSTNAME/);
  });
});

describe("runActionListener", () => {
  it("answers discover and launch on the event hub until stopped, then reports the jobs", async () => {
    const session = new FakeSession();
    const m = session.memory;
    m.add("User", { username: "api.user" });
    const { version } = m.seedVersion({ project: "show", asset: "plate", version: 1 });
    const src = await Location.ensure(session, "src.disk", { accessor: new DiskAccessor({ prefix: join(tmp, "src") }), structure: new StandardStructure({ session }) });
    const dst = await Location.ensure(session, "dst.disk", { accessor: new DiskAccessor({ prefix: join(tmp, "dst") }), structure: new StandardStructure({ session }) });
    await writeFile(join(tmp, "plate.mov"), "movie");
    const { createComponent } = await import("../../src/accessor/components.js");
    const component = await createComponent(session, { id: version.id as string }, join(tmp, "plate.mov"), { location: src });

    const controller = new AbortController();
    const events: Record<string, unknown>[] = [];
    const done = runActionListener({ session, locations: [src, dst], signal: controller.signal, log: (e) => events.push(e) });
    expect(events[0]).toEqual({ event: "listening", identifier: "transfer-components", locations: ["src.disk", "dst.disk"] });
    expect(session.eventHub.count).toBe(2);

    const selection = [{ entityType: "Component", entityId: component.id }];
    const [discovered] = await session.eventHub.publish({ topic: "ftrack.action.discover", data: { selection } });
    expect(discovered).toMatchObject({ items: [{ actionIdentifier: "transfer-components" }] });
    const [launched] = await session.eventHub.publish({
      topic: "ftrack.action.launch",
      data: { actionIdentifier: "transfer-components", selection, values: { from_location: src.id, to_location: dst.id } },
    });
    expect(launched).toMatchObject({ success: true });

    controller.abort();
    const jobs = await done;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ status: "done" });
    expect(session.eventHub.count).toBe(0);
    expect(events.filter((e) => e.event === "job")).toHaveLength(1);
    expect(events.at(-1)).toEqual({ event: "stopped", jobs: 1 });
    expect(await dst.getComponentAvailability(component)).toBe(100);
  });
});

describe("ftrack action", () => {
  it("refuses a location the transfer form never offers, before connecting anywhere", async () => {
    // No FTRACK_* variables: the refusal must come before the session is opened.
    const r = await runCli(["ftrack", "action", "--location", `ftrack.connect=${tmp}`], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"ftrack.connect" is never offered by the transfer action.*studio.disk=DIR/);
    const ok = await runCli(["ftrack", "action", "--location", `studio.disk=${tmp}`], {});
    expect(ok.stderr).toMatch(/FTRACK_SERVER/);
  });
});

describe("ftrack transfer with ftrack.server", () => {
  it("uploads to ftrack.server, moves the component to studio.sftp and back, printing no API key", async () => {
    const store = await startFileStore();
    const sftp = await startTestServer();
    try {
      store.memory.add("Location", { id: SERVER_LOCATION_ID, name: SERVER_LOCATION_NAME });
      const { version } = store.memory.seedVersion({ project: "show", asset: "plate", version: 4 });
      const data = new Uint8Array(300 * 1024).map((_, i) => (i * 7) & 0xff);
      await writeFile(join(tmp, "main.mov"), data);
      const env = {
        FTRACK_SERVER: store.url, FTRACK_API_USER: API_USER, FTRACK_API_KEY: API_KEY,
        FTRACK_SFTP_ACCESSOR_HOSTNAME: "127.0.0.1", FTRACK_SFTP_ACCESSOR_PORT: String(sftp.server.port),
        FTRACK_SFTP_ACCESSOR_USERNAME: USER, FTRACK_SFTP_ACCESSOR_PASSWORD: PASSWORD,
        FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT: sftp.server.hostKeyFingerprints.join(","),
        FTRACK_SFTP_ACCESSOR_KNOWN_HOSTS: join(tmp, "no-known-hosts"),
      };
      // ftrack upload --location ftrack.server: a new component, its data on ftrack's storage.
      const uploaded = await runCli(["--json", "ftrack", "upload", "--location", "ftrack.server", version.id, join(tmp, "main.mov")], env);
      expect(uploaded.code).toBe(0);
      const component = (JSON.parse(uploaded.stdout) as { component: { id: string } }).component;
      expect(new Uint8Array(store.files.get(component.id)!)).toEqual(data);

      const there = await runCli(["--json", "ftrack", "transfer", component.id, "--from", "ftrack.server", "--to", "studio.sftp"], env);
      expect(there.stderr).toBe("");
      expect(there.code).toBe(0);
      const out = JSON.parse(there.stdout) as { from: string; to: string; components: { status: string; resourceIdentifiers: string[] }[] };
      expect(out).toMatchObject({ from: "ftrack.server", to: "studio.sftp", components: [{ status: "transferred", resourceIdentifiers: ["show/plate/v004/main.mov"] }] });
      expect(new Uint8Array(await readFile(join(sftp.root, "show/plate/v004/main.mov")))).toEqual(data);

      // Back: the data is removed from ftrack.server (and its record), then copied up again.
      store.files.delete(component.id);
      for (const r of [...store.memory.rows.values()]) if (r.__entity_type__ === "ComponentLocation" && r.location_id === SERVER_LOCATION_ID) store.memory.rows.delete(r.id);
      const back = await runCli(["-v", "ftrack", "transfer", component.id, "--from", "studio.sftp", "--to", "ftrack.server"], env);
      expect(back.code).toBe(0);
      // -v describes the SFTP connection studio.sftp opened, as the file commands do.
      expect(back.stderr).toMatch(/debug: crypto auto: client->server [a-z0-9-]+: \S+/);
      expect(back.stderr).not.toContain(PASSWORD);
      expect(back.stdout).toContain("studio.sftp -> ftrack.server");
      expect(new Uint8Array(store.files.get(component.id)!)).toEqual(data);

      // A failing read names the component, not the key.
      store.files.delete(component.id);
      const failed = await runCli(["ftrack", "transfer", component.id, "--from", "ftrack.server", "--to", `local.disk=${join(tmp, "cli-disk")}`], env);
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain(`reading component ${component.id} from ftrack.server answered HTTP 404`);
      expect(`${failed.stdout}${failed.stderr}`).not.toContain(API_KEY);
      expect(`${failed.stdout}${failed.stderr}`).not.toContain(encodeURIComponent(API_KEY));
    } finally {
      await sftp.stop();
      await store.close();
    }
  }, 60_000);
});
