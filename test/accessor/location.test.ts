/**
 * Location flows with a fake Session (plain objects shaped like @ftrack/api's results) and
 * DiskAccessor locations in temp directories: createComponent for files and sequences,
 * transfers between locations, all-or-nothing failures, removal and availability.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createComponent } from "../../src/accessor/components.js";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import type { FtrackEntity } from "../../src/accessor/ftrack.js";
import { Location } from "../../src/accessor/location.js";
import { LocationError } from "../../src/accessor/location-error.js";
import { StandardStructure } from "../../src/accessor/standard-structure.js";
import { FakeSession } from "./support/fake-session.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "location-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** All files under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), rel + e.name + "/");
      else out.push(rel + e.name);
    }
  };
  await walk(dir, "");
  return out.sort();
}

const frame = (i: number) => new TextEncoder().encode(`frame ${i} `.repeat(1000 + i));

let session: FakeSession;
let version: FtrackEntity;
let src: string;
let rootA: string;
let rootB: string;
let a: Location;
let b: Location;
const PREFIX = "proj/sq010/sh010/compositing/plate/v001";

beforeEach(async () => {
  session = new FakeSession();
  const seeded = session.memory.seedVersion({
    project: "proj", fullName: "Project Full Name", asset: "Plate", version: 1,
    contexts: [["Sequence", "SQ010"], ["Shot", "SH010"], ["Task", "Compositing"]],
  });
  version = { __entity_type__: "AssetVersion", id: seeded.version.id };
  src = await tempDir();
  for (let i = 1; i <= 10; i++) await writeFile(join(src, `img.${String(i).padStart(4, "0")}.exr`), frame(i));
  await writeFile(join(src, "movie.mov"), "a movie");
  rootA = await tempDir();
  rootB = await tempDir();
  a = await Location.ensure(session, "studio.disk.a", { accessor: new DiskAccessor({ prefix: rootA }), structure: new StandardStructure({ session }), priority: 10 });
  b = await Location.ensure(session, "studio.disk.b", { accessor: new DiskAccessor({ prefix: rootB }), structure: new StandardStructure({ session }) });
});

const records = (locationId: string) =>
  [...session.memory.rows.values()].filter((r) => r.__entity_type__ === "ComponentLocation" && r.location_id === locationId);

describe("Location", () => {
  it("ensure creates the Location entity once and reuses it", async () => {
    const again = await Location.ensure(session, "studio.disk.a");
    expect(again.id).toBe(a.id);
    expect(again.priority).toBe(95);
    expect([...session.memory.rows.values()].filter((r) => r.__entity_type__ === "Location")).toHaveLength(2);
  });

  it("createComponent copies a file and records its ComponentLocation", async () => {
    const c = await createComponent(session, version, join(src, "movie.mov"), { location: a });
    expect(c).toMatchObject({ __entity_type__: "FileComponent", name: "main", file_type: ".mov", size: 7 });
    expect(await tree(rootA)).toEqual([`${PREFIX}/main.mov`]);
    expect(await readFile(join(rootA, PREFIX, "main.mov"), "utf8")).toBe("a movie");
    expect(records(a.id)).toEqual([expect.objectContaining({ component_id: c.id, resource_identifier: `${PREFIX}/main.mov` })]);
    expect(await a.getResourceIdentifier(c)).toBe(`${PREFIX}/main.mov`);
    expect(await a.getFilesystemPath(c)).toBe(join(rootA, PREFIX, "main.mov"));
    expect(await a.getUrl(c)).toBe(`file://${rootA}/${PREFIX}/main.mov`);
    expect(await a.getComponentAvailability(c)).toBe(100);
    expect(await b.getComponentAvailability(c)).toBe(0);
  });

  it("createComponent makes a sequence of members named by frame, with progress", async () => {
    const progress: number[] = [];
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), {
      location: a, name: "beauty", onProgress: (p) => progress.push(p.index),
    });
    expect(seq).toMatchObject({ __entity_type__: "SequenceComponent", name: "beauty", padding: 4, file_type: ".exr" });
    const members = seq.members as FtrackEntity[];
    expect(members.map((m) => m.name)).toEqual(["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"]);
    expect(await tree(rootA)).toEqual(members.map((m) => `${PREFIX}/beauty.${String(m.name)}.exr`));
    for (let i = 1; i <= 10; i++) {
      expect(await readFile(join(rootA, PREFIX, `beauty.${String(i).padStart(4, "0")}.exr`))).toEqual(Buffer.from(frame(i)));
    }
    expect(await a.getResourceIdentifier(seq)).toBe(`${PREFIX}/beauty.%04d.exr`);
    expect(records(a.id)).toHaveLength(11);
    expect(new Set(progress)).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(await a.getComponentAvailability(seq)).toBe(100);
  });

  it("a second component on the same version works", async () => {
    await createComponent(session, version, join(src, "movie.mov"), { location: a });
    await createComponent(session, version, join(src, "img.0001.exr"), { location: a, name: "thumbnail" });
    expect(await tree(rootA)).toEqual([`${PREFIX}/main.mov`, `${PREFIX}/thumbnail.exr`]);
  });

  it("transfers a sequence to another location (loading members through the session)", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    const bare = { __entity_type__: "SequenceComponent", id: seq.id };
    const done = await b.addComponent(bare, a);
    expect(done).toHaveLength(11);
    expect(await tree(rootB)).toEqual(await tree(rootA));
    for (const f of await tree(rootA)) expect(await readFile(join(rootB, f))).toEqual(await readFile(join(rootA, f)));
    expect(await b.getComponentAvailabilities([bare])).toEqual([100]);
    const again = await b.addComponent(bare, a).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: "LOCATION_COMPONENT_IN_LOCATION" });
  });

  it("never overwrites existing data, and rolls back what it copied", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    await mkdir(join(rootB, PREFIX), { recursive: true });
    await writeFile(join(rootB, PREFIX, "main.0007.exr"), "someone else's");
    const err = await b.addComponent(seq, a, { concurrency: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocationError);
    expect((err as LocationError).code).toBe("LOCATION_DATA_EXISTS");
    expect(await tree(rootB)).toEqual([`${PREFIX}/main.0007.exr`]);
    expect(await readFile(join(rootB, PREFIX, "main.0007.exr"), "utf8")).toBe("someone else's");
    expect(records(b.id)).toEqual([]);
  });

  it("a retry adopts its own copy that was committed but not recorded (the connection dropped at the rename)", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    // What the interrupted attempt left: member 7 committed under its final name, byte-identical.
    await mkdir(join(rootB, PREFIX), { recursive: true });
    const member = `${PREFIX}/main.0007.exr`;
    await writeFile(join(rootB, member), await readFile(join(rootA, member)));
    const done = await b.addComponent(seq, a, { concurrency: 1 });
    expect(done).toHaveLength(11);
    expect(records(b.id)).toHaveLength(11);
    expect(await tree(rootB)).toEqual(await tree(rootA));
    for (const f of await tree(rootA)) expect(await readFile(join(rootB, f))).toEqual(await readFile(join(rootA, f)));
  });

  it("same size is not enough: a different file of the source's size is still never overwritten", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    await mkdir(join(rootB, PREFIX), { recursive: true });
    const member = `${PREFIX}/main.0007.exr`;
    const other = new Uint8Array(await readFile(join(rootA, member)));
    other[other.length - 1]! ^= 1;
    await writeFile(join(rootB, member), other);
    const err = await b.addComponent(seq, a, { concurrency: 1 }).catch((e: unknown) => e);
    expect((err as LocationError).code).toBe("LOCATION_DATA_EXISTS");
    expect(new Uint8Array(await readFile(join(rootB, member)))).toEqual(other);
  });

  it("a failing ComponentLocation create leaves no orphan files and no records", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    // The 6th record fails: five were created and must be deleted again.
    const real = session.create.bind(session);
    let n = 0;
    session.create = async (type, data) => {
      if (type === "ComponentLocation" && ++n === 6) throw new Error("server said no");
      return real(type, data);
    };
    const err = await b.addComponent(seq, a).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "LOCATION_REGISTER_FAILED" });
    expect((err as LocationError).leftBehind).toEqual([]);
    expect(await tree(rootB)).toEqual([]);
    expect(records(b.id)).toEqual([]);
  });

  it("createComponent deletes what it created when adding fails", async () => {
    const before = session.memory.rows.size;
    session.memory.failNext("create", "ComponentLocation");
    await expect(createComponent(session, version, join(src, "img.%04d.exr [1-3]"), { location: a })).rejects.toMatchObject({ code: "LOCATION_REGISTER_FAILED" });
    expect(session.memory.rows.size).toBe(before);
    expect(await tree(rootA)).toEqual([]);
  });

  it("reports a missing source file as a transfer failure", async () => {
    await expect(createComponent(session, version, join(src, "img.%04d.exr [1-11]"), { location: a })).rejects.toMatchObject({ code: "LOCATION_TRANSFER_FAILED" });
  });

  it("a component missing in the source location is LOCATION_COMPONENT_NOT_IN_LOCATION", async () => {
    const c = await createComponent(session, version, join(src, "movie.mov"), { location: a });
    const other = await createComponent(session, version, join(src, "movie.mov"), { name: "nowhere" });
    await expect(b.addComponents([c, other], a)).rejects.toMatchObject({ code: "LOCATION_COMPONENT_NOT_IN_LOCATION", components: [expect.objectContaining({ id: other.id })] });
    expect(await tree(rootB)).toEqual([]);
  });

  it("removes components: members first, sequence expression ignored, records deleted", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    const file = await createComponent(session, version, join(src, "movie.mov"), { location: a, name: "movie" });
    await a.removeComponent({ __entity_type__: "SequenceComponent", id: seq.id });
    expect(await tree(rootA)).toEqual([`${PREFIX}/movie.mov`]);
    expect(records(a.id)).toHaveLength(1);
    await a.removeComponent(file);
    expect(await tree(rootA)).toEqual([]);
    expect(records(a.id)).toEqual([]);
    await expect(a.removeComponent(file)).rejects.toMatchObject({ code: "LOCATION_COMPONENT_NOT_IN_LOCATION" });
  });

  it("availability of a partly present sequence is the share of members", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-10]"), { location: a });
    const member = (seq.members as FtrackEntity[])[2]!;
    await a.removeComponent(member);
    expect(await a.getComponentAvailability(seq)).toBe(90);
  });

  it("handles ContainerComponents: a directory with member files", async () => {
    const docs = join(src, "docs");
    await mkdir(docs);
    await writeFile(join(docs, "Notes.PDF"), "notes");
    await writeFile(join(docs, "brief.txt"), "brief");
    const container = (await session.create("ContainerComponent", { name: "Review Pack", version_id: version.id })).data;
    for (const [name, ft] of [["Notes", ".PDF"], ["brief", ".txt"]]) {
      await session.create("FileComponent", { name, file_type: ft, container_id: container.id });
    }
    await a.addComponent(container, docs);
    expect(await tree(rootA)).toEqual([`${PREFIX}/review_pack/brief.txt`, `${PREFIX}/review_pack/notes.pdf`]);
    expect(await a.getResourceIdentifier(container)).toBe(`${PREFIX}/review_pack`);
    await b.addComponent(container, a);
    expect(await readFile(join(rootB, PREFIX, "review_pack", "notes.pdf"), "utf8")).toBe("notes");
    await a.removeComponent(container);
    expect(await readdir(join(rootA, PREFIX))).toEqual([]);
  });

  it("an aborted add removes what it copied", async () => {
    const controller = new AbortController();
    const add = createComponent(session, version, join(src, "img.%04d.exr [1-10]"), {
      location: a, concurrency: 1, signal: controller.signal,
      onProgress: (p) => { if (p.index === 3) controller.abort(); },
    });
    await expect(add).rejects.toMatchObject({ code: "LOCATION_ABORTED" });
    expect(await tree(rootA)).toEqual([]);
  });

  it("refuses to work without structure or accessor", async () => {
    const bare = new Location({ session, entity: { id: a.id, name: "bare" } });
    await expect(bare.addComponent({ __entity_type__: "FileComponent", id: "x" }, join(src, "movie.mov"))).rejects.toMatchObject({ code: "LOCATION_NOT_CONFIGURED" });
  });
});
