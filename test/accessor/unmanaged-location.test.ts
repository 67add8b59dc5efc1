/**
 * ftrack.unmanaged (records where data is, copies and deletes nothing) and ftrack.origin
 * (local paths remembered in memory, never recorded in ftrack), with a fake session and a disk
 * location as the managed side.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createComponent } from "../../src/accessor/components.js";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import type { FtrackEntity } from "../../src/accessor/ftrack.js";
import { Location } from "../../src/accessor/location.js";
import { LocationError } from "../../src/accessor/location-error.js";
import { StandardStructure } from "../../src/accessor/standard-structure.js";
import {
  ORIGIN_LOCATION_ID, OriginLocation, registerUnmanagedLocation, UNMANAGED_LOCATION_ID, UNMANAGED_LOCATION_NAME, type UnmanagedLocation,
} from "../../src/accessor/unmanaged-location.js";
import { FakeSession } from "./support/fake-session.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

let session: FakeSession;
let version: FtrackEntity;
let src: string;
let disk: Location;
let diskRoot: string;
let unmanaged: UnmanagedLocation;

beforeEach(async () => {
  session = new FakeSession();
  session.memory.add("Location", { id: UNMANAGED_LOCATION_ID, name: UNMANAGED_LOCATION_NAME });
  const seeded = session.memory.seedVersion({ project: "proj", asset: "plate", version: 3 });
  version = { id: seeded.version.id };
  src = await mkdtemp(join(tmpdir(), "unmanaged-src-"));
  diskRoot = await mkdtemp(join(tmpdir(), "unmanaged-disk-"));
  dirs.push(src, diskRoot);
  for (let i = 1; i <= 3; i++) await writeFile(join(src, `img.000${i}.exr`), `frame ${i}`);
  await writeFile(join(src, "movie.mov"), "movie");
  disk = await Location.ensure(session, "studio.disk", { accessor: new DiskAccessor({ prefix: diskRoot }), structure: new StandardStructure({ session }) });
  unmanaged = await registerUnmanagedLocation(session);
});

const records = (locationId: string) => [...session.memory.rows.values()].filter((r) => r.__entity_type__ === "ComponentLocation" && r.location_id === locationId);

describe("ftrack.origin", () => {
  it("remembers local paths in memory only, and is the source of a copy", async () => {
    const origin = new OriginLocation({ session });
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-3]"), { origin, location: disk, name: "render" });
    expect(await origin.getResourceIdentifier(seq)).toBe(join(src, "img.%04d.exr"));
    const members = seq.members as FtrackEntity[];
    expect(await origin.getResourceIdentifiers(members)).toEqual([1, 2, 3].map((i) => join(src, `img.000${i}.exr`)));
    expect(records(ORIGIN_LOCATION_ID)).toEqual([]);
    expect(await disk.getComponentAvailability(seq)).toBe(100);

    const again = await Location.ensure(session, "studio.disk.b", { accessor: new DiskAccessor({ prefix: join(diskRoot, "b") }), structure: new StandardStructure({ session }) });
    await again.addComponent(seq, origin);
    expect(await again.getComponentAvailability(seq)).toBe(100);

    await expect(origin.addComponent(seq, "/elsewhere")).rejects.toMatchObject({ code: "LOCATION_COMPONENT_IN_LOCATION" });
    await origin.removeComponents([seq]);
    expect(await origin.getComponentAvailabilities([seq, ...members])).toEqual([0, 0, 0, 0]);
    const e = await origin.getResourceIdentifier(members[0]!).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LocationError);
    expect((e as LocationError).code).toBe("LOCATION_COMPONENT_NOT_IN_LOCATION");
  });

  it("forgets the component again when the copy fails", async () => {
    const origin = new OriginLocation({ session });
    const remembered: FtrackEntity[] = [];
    const add = origin.addComponent.bind(origin);
    origin.addComponent = (c, path, o) => (remembered.push(c), add(c, path, o));
    session.memory.failNext("create", "ComponentLocation");
    await expect(createComponent(session, version, join(src, "movie.mov"), { origin, location: disk })).rejects.toBeInstanceOf(LocationError);
    const created = [...session.memory.rows.values()].filter((r) => r.__entity_type__ === "FileComponent");
    expect(created).toEqual([]);
    expect(remembered).toHaveLength(1);
    expect(await origin.getComponentAvailabilities(remembered)).toEqual([0]);
  });
});

describe("ftrack.unmanaged", () => {
  it("records a local path as it is and copies nothing", async () => {
    const movie = await createComponent(session, version, join(src, "movie.mov"), { location: unmanaged });
    expect(await unmanaged.getResourceIdentifier(movie)).toBe(join(src, "movie.mov"));
    expect(records(UNMANAGED_LOCATION_ID)).toHaveLength(1);
    expect(unmanaged.priority).toBe(90);
    // Its data is readable from there: a copy into a managed location works.
    await disk.addComponent(movie, unmanaged);
    expect(await disk.getComponentAvailability(movie)).toBe(100);
    // Removing forgets the record and leaves the file.
    await unmanaged.removeComponent(movie);
    expect(records(UNMANAGED_LOCATION_ID)).toEqual([]);
    expect(await readdir(src)).toContain("movie.mov");
  });

  it("records another location's identifiers for a sequence and its members", async () => {
    const seq = await createComponent(session, version, join(src, "img.%04d.exr [1-3]"), { location: disk, name: "render" });
    // Sorted: the order of a recursive listing differs between runtimes (Bun lists depth-first).
    const before = (await readdir(diskRoot, { recursive: true })).sort();
    await unmanaged.addComponent(seq, disk);
    const members = seq.members as FtrackEntity[];
    expect(await unmanaged.getResourceIdentifiers([seq, ...members])).toEqual(await disk.getResourceIdentifiers([seq, ...members]));
    expect((await readdir(diskRoot, { recursive: true })).sort()).toEqual(before);
    await unmanaged.removeComponent(seq);
    expect(records(UNMANAGED_LOCATION_ID)).toEqual([]);
    expect(await disk.getComponentAvailability(seq)).toBe(100);
  });
});
