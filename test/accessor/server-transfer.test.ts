/**
 * Components moving between ftrack.server (the fake ftrack storage of support/fake-file-store.ts,
 * through @ftrack/api's real Session) and studio.sftp (an SFTPAccessor on the embedded SFTP
 * server): createComponent into ftrack.server in parts, ftrack.server → studio.sftp, back again,
 * the transfer action's job both ways, nothing recorded when an upload fails, and the
 * component-added event.
 */
import { Session } from "@ftrack/api";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createComponent } from "../../src/accessor/components.js";
import type { FtrackEntity, FtrackEvent } from "../../src/accessor/ftrack.js";
import type { Location } from "../../src/accessor/location.js";
import { LocationError } from "../../src/accessor/location-error.js";
import { registerSftpLocation } from "../../src/accessor/plugin.js";
import { SERVER_LOCATION_ID, SERVER_LOCATION_NAME, type ServerSessionLike } from "../../src/accessor/server-accessor.js";
import { registerServerLocation, type ServerLocation } from "../../src/accessor/server-location.js";
import { SFTPAccessor } from "../../src/accessor/sftp-accessor.js";
import { createTransferAction, runTransferJob } from "../../src/accessor/transfer-action.js";
import { startTestServer, type TestServer } from "../server/helpers.js";
import { sameBytes } from "./support/accessor-contract.js";
import { API_KEY, API_USER, startFileStore, type FileStore } from "./support/fake-file-store.js";
import { FakeSession } from "./support/fake-session.js";

// Compile-time: @ftrack/api's Session is what the server location needs.
const _fits = (s: Session): ServerSessionLike => s;
void _fits;

const KiB = 1024;
const FAST = { baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 10_000, partSize: 64 * KiB };

let store: FileStore;
let sftpServer: TestServer;
let session: Session;
let tmp: string;
let server: ServerLocation;
let studio: Location;
let version: { id: string };
const frames = [1, 2, 3].map((i) => new Uint8Array(200 * KiB + i).map((_, j) => (j * 13 + i) & 0xff));

beforeAll(async () => {
  store = await startFileStore();
  store.memory.add("Location", { id: SERVER_LOCATION_ID, name: SERVER_LOCATION_NAME });
  store.memory.add("User", { username: API_USER });
  session = new Session(store.url, API_USER, API_KEY, { decodeDatesAsIso: true });
  await session.initializing;
  sftpServer = await startTestServer();
  tmp = await mkdtemp(join(tmpdir(), "server-transfer-"));
  for (const [i, f] of frames.entries()) await writeFile(join(tmp, `comp.${String(i + 1).padStart(4, "0")}.exr`), f);
});
afterAll(async () => {
  await studio?.accessor?.close();
  await sftpServer?.stop();
  await store?.close();
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  const { version: v } = store.memory.seedVersion({ project: "show", contexts: [["Shot", "sh010"]], asset: "comp", version: 2 });
  version = { id: v.id };
  server = await registerServerLocation(session, FAST);
  await studio?.accessor?.close();
  const { host, port, username, password, hostKeys } = sftpServer.options();
  const sftp = new SFTPAccessor({ host: host!, port, username, password, hostKeys });
  studio = await registerSftpLocation(session, { accessor: sftp });
});

const serverRecords = () => [...store.memory.rows.values()].filter((r) => r.__entity_type__ === "ComponentLocation" && r.location_id === SERVER_LOCATION_ID);

describe("ftrack.server ↔ studio.sftp", () => {
  it("uploads a sequence to ftrack.server in parts, moves it to studio.sftp and back", async () => {
    const seq = await createComponent(session, version, join(tmp, "comp.%04d.exr [1-3]"), { location: server, name: "comp" });
    const members = seq.members as FtrackEntity[];
    expect(server.priority).toBe(150);
    // Stored by component id, recorded with the id as resource identifier, in 4 parts each.
    for (const [i, m] of members.entries()) {
      expect(sameBytes(store.files.get(m.id as string)!, frames[i]!)).toBe(true);
      expect(await server.getResourceIdentifier(m)).toBe(m.id);
      expect(store.completions.find((c) => c.componentId === m.id)?.parts).toHaveLength(4);
    }
    expect(await server.getComponentAvailability(seq)).toBe(100);

    // ftrack.server → studio.sftp (Python: sftp.add_component(component, server_location)).
    const progress: number[] = [];
    await studio.addComponent(seq, server, { onProgress: (p) => progress.push(p.bytesDone) });
    const base = "show/sh010/comp/v002";
    expect(await studio.getResourceIdentifier(seq)).toBe(`${base}/comp.%04d.exr`);
    for (const [i, f] of frames.entries()) {
      expect(sameBytes(await readFile(join(sftpServer.root, base, `comp.000${i + 1}.exr`)), f)).toBe(true);
    }
    expect(progress.at(-1)).toBe(frames.reduce((n, f) => n + f.length, 0));

    // Gone from ftrack.server (data and records), then back from studio.sftp.
    await server.removeComponent(seq);
    expect(serverRecords().filter((r) => members.some((m) => m.id === r.component_id))).toEqual([]);
    expect(members.some((m) => store.files.has(m.id as string))).toBe(false);
    await server.addComponent(seq, studio);
    for (const [i, m] of members.entries()) expect(sameBytes(store.files.get(m.id as string)!, frames[i]!)).toBe(true);
    expect(await server.getComponentAvailability(seq)).toBe(100);
  });

  it("runs the transfer action's job from ftrack.server to studio.sftp and back, offering both", async () => {
    const movie = await createComponent(session, version, join(tmp, "comp.0001.exr"), { location: server, name: "plate" });
    const action = createTransferAction({ session, locations: [server, studio] });
    const form = (await action.launch({ topic: "ftrack.action.launch", data: { actionIdentifier: "transfer-components", selection: [{ entityType: "Component", entityId: movie.id }] } })) as { items: { name?: string; data?: { value: string }[] }[] };
    const choices = form.items.find((i) => i.name === "from_location")!.data!.map((d) => d.value);
    expect(choices).toEqual(expect.arrayContaining([server.id, studio.id]));

    const entities = [{ entityType: "Component", entityId: movie.id as string }];
    const there = await runTransferJob({ session, source: server, target: studio, entities });
    expect(there).toMatchObject({ status: "done", description: `Transferred 1 of 1 component(s) from ${SERVER_LOCATION_NAME} to studio.sftp` });
    await server.removeComponent(movie);
    const back = await runTransferJob({ session, source: studio, target: server, entities });
    expect(back).toMatchObject({ status: "done" });
    expect(sameBytes(store.files.get(movie.id as string)!, frames[0]!)).toBe(true);
  });

  it("records nothing when the upload fails, and leaves studio.sftp's copy alone", async () => {
    const movie = await createComponent(session, version, join(tmp, "comp.0002.exr"), { location: studio, name: "failing" });
    const failing = await registerServerLocation(session, { ...FAST, attempts: 2 });
    store.fail("part", "503", 8);
    const e = await failing.addComponent(movie, studio).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LocationError);
    expect((e as LocationError).code).toBe("LOCATION_TRANSFER_FAILED");
    expect((e as Error).message).not.toContain(API_KEY);
    expect(serverRecords().filter((r) => r.component_id === movie.id)).toEqual([]);
    expect(store.files.has(movie.id as string)).toBe(false);
    expect(await studio.getComponentAvailability(movie)).toBe(100);
  });
});

describe("a ContainerComponent", () => {
  it("is its members on ftrack.server: uploaded, copied to studio.sftp as a directory, removed", async () => {
    const docs = join(tmp, "docs");
    await import("node:fs/promises").then((fs) => fs.mkdir(docs, { recursive: true }));
    await writeFile(join(docs, "a.pdf"), "A");
    await writeFile(join(docs, "b.txt"), "BB");
    const container = (await session.create("ContainerComponent", { name: "docs", version_id: version.id })).data as FtrackEntity;
    const a = (await session.create("FileComponent", { name: "a", file_type: ".pdf", size: 1, container_id: container.id })).data as FtrackEntity;
    const b = (await session.create("FileComponent", { name: "b", file_type: ".txt", size: 2, container_id: container.id })).data as FtrackEntity;
    await server.addComponent(container, docs);
    expect(new TextDecoder().decode(store.files.get(b.id as string))).toBe("BB");
    expect(store.files.has(container.id as string)).toBe(false);
    await studio.addComponent(container, server);
    expect(await readFile(join(sftpServer.root, "show/sh010/comp/v002/docs/a.pdf"), "utf8")).toBe("A");
    await server.removeComponent(container);
    expect(serverRecords().filter((r) => [container.id, a.id, b.id].includes(r.component_id as string))).toEqual([]);
    expect(store.files.has(a.id as string) || store.files.has(b.id as string)).toBe(false);
  });
});

describe("aborting", () => {
  it("stops an upload to ftrack.server at once, recording nothing", async () => {
    const movie = await createComponent(session, version, join(tmp, "comp.0001.exr"), { location: studio, name: "aborted" });
    store.putDelayMs = 3_000;
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    const e = await server.addComponent(movie, studio, { signal: controller.signal }).catch((x: unknown) => x);
    store.putDelayMs = 5;
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(e).toBeInstanceOf(LocationError);
    expect((e as LocationError).code).toBe("LOCATION_ABORTED");
    expect(serverRecords().filter((r) => r.component_id === movie.id)).toEqual([]);
    expect(store.completions.some((c) => c.componentId === movie.id)).toBe(false);
  });
});

describe("ftrack.location.component-added", () => {
  it("is published for each component added to ftrack.server", async () => {
    const fake = Object.assign(new FakeSession(store.memory), { serverUrl: store.url, apiUser: API_USER, apiKey: API_KEY });
    const events: FtrackEvent[] = [];
    fake.eventHub.subscribe("topic=ftrack.location.component-added", (e: FtrackEvent) => void events.push(e));
    const location = await registerServerLocation(fake, FAST);
    const c = await createComponent(fake, version, join(tmp, "comp.0003.exr"), { location, name: "evented" });
    expect(events.map((e) => e.data)).toEqual([{ component_id: c.id, location_id: SERVER_LOCATION_ID }]);
  });
});
