import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createComponent } from "../../src/accessor/components.js";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import type { FtrackEntity, FtrackEvent } from "../../src/accessor/ftrack.js";
import { Location } from "../../src/accessor/location.js";
import { StandardStructure } from "../../src/accessor/standard-structure.js";
import {
  componentQueries, createTransferAction, describeResult, findComponents, isValidSelection, parseTransferValues, runTransferJob,
  transferComponents, transferForm, translateSelection,
} from "../../src/accessor/transfer-action.js";
import { FakeSession } from "./support/fake-session.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "transfer-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("transfer logic (pure)", () => {
  it("translates the web UI's selection types like the Python action handler", () => {
    const selection = [
      { entityType: "show", entityId: "p" },
      { entityType: "task", entityId: "t" },
      { entityType: "assetversion", entityId: "v" },
      { entityType: "Component", entityId: "c" },
      { entityType: "file_component", entityId: "f" },
      { entityType: "reviewsession", entityId: "r" },
      { nonsense: true },
    ];
    expect(translateSelection(selection, [{ id: "ReviewSession" }])).toEqual([
      { entityType: "Project", entityId: "p" },
      { entityType: "TypedContext", entityId: "t" },
      { entityType: "AssetVersion", entityId: "v" },
      { entityType: "Component", entityId: "c" },
      { entityType: "Component", entityId: "f" },
      { entityType: "ReviewSession", entityId: "r" },
    ]);
    expect(translateSelection(undefined)).toEqual([]);
  });

  it("accepts only supported selections", () => {
    expect(isValidSelection([])).toBe(false);
    expect(isValidSelection([{ entityType: "Project", entityId: "p" }, { entityType: "Component", entityId: "c" }])).toBe(true);
    expect(isValidSelection([{ entityType: "Project", entityId: "p" }, { entityType: "User", entityId: "u" }])).toBe(false);
  });

  it("builds the Python action's component queries", () => {
    expect(componentQueries([
      { entityType: "Project", entityId: "p1" }, { entityType: "TypedContext", entityId: "t1" }, { entityType: "TypedContext", entityId: "t2" },
      { entityType: "AssetVersion", entityId: "v1" }, { entityType: "Component", entityId: "c1" },
    ], "loc")).toEqual([
      'select id, name, file_type, size, version_id from Component where (version.asset.parent.project.id in ("p1") or version.asset.parent.id in ("p1")) and component_locations.location_id is "loc"',
      'select id, name, file_type, size, version_id from Component where (version.asset.parent.ancestors.id in ("t1", "t2") or version.asset.parent.id in ("t1", "t2")) and component_locations.location_id is "loc"',
      'select id, name, file_type, size, version_id from Component where version_id in ("v1") and component_locations.location_id is "loc"',
      'select id, name, file_type, size, version_id from Component where id in ("c1") and component_locations.location_id is "loc"',
    ]);
  });

  it("builds the form, sorted by priority, without excluded locations", () => {
    const form = transferForm([
      { id: "3", name: "studio.disk", priority: 50 },
      { id: "1", name: "ftrack.connect", priority: 0 },
      { id: "2", name: "studio.sftp", label: "Studio SFTP", priority: 30 },
    ]);
    expect(form[1]).toMatchObject({ name: "from_location", type: "enumerator", value: "2", data: [{ label: "Studio SFTP", value: "2" }, { label: "studio.disk", value: "3" }] });
    expect(form[2]).toMatchObject({ name: "to_location", value: "3" });
    expect(form.map((f) => f.name).filter(Boolean)).toEqual(["from_location", "to_location", "ignore_component_not_in_location", "ignore_location_errors"]);
  });

  it("parses submitted values", () => {
    expect(parseTransferValues({ from_location: "a", to_location: "b", ignore_location_errors: "true" }))
      .toEqual({ sourceId: "a", targetId: "b", ignoreComponentNotInLocation: false, ignoreLocationErrors: true });
    expect(parseTransferValues({ from_location: "a", to_location: "a" })).toEqual({ error: "Source and target locations are the same." });
    expect(parseTransferValues({ to_location: "a" })).toHaveProperty("error");
    expect(parseTransferValues(undefined)).toHaveProperty("error");
  });

  it("describes results", () => {
    expect(describeResult({ total: 3, transferred: 1, alreadyPresent: 1, missing: 1, failed: [] }, "a", "b"))
      .toBe("Transferred 1 of 3 component(s) from a to b (1 already there, 1 missing in a)");
  });
});

describe("transfers between locations", () => {
  let session: FakeSession;
  let a: Location;
  let b: Location;
  let ids: { project: string; shot: string; task: string; version: string; version2: string };
  let components: FtrackEntity[];

  beforeEach(async () => {
    session = new FakeSession();
    const m = session.memory;
    m.add("User", { username: "api.user" });
    const one = m.seedVersion({ project: "proj", contexts: [["Shot", "sh010"], ["Task", "comp"]], asset: "plate", version: 1 });
    const shot = [...m.rows.values()].find((r) => r.name === "sh010")!;
    const asset2 = m.add("Asset", { name: "other", context_id: shot.id });
    const version2 = m.add("AssetVersion", { version: 1, asset_id: asset2.id });
    ids = { project: one.project.id, shot: shot.id, task: one.context.id, version: one.version.id, version2: version2.id };
    const src = await tempDir();
    for (let i = 1; i <= 3; i++) await writeFile(join(src, `f.${i}.exr`), `frame ${i}`);
    await writeFile(join(src, "movie.mov"), "movie");
    a = await Location.ensure(session, "studio.a", { accessor: new DiskAccessor({ prefix: await tempDir() }), structure: new StandardStructure({ session }) });
    b = await Location.ensure(session, "studio.b", { accessor: new DiskAccessor({ prefix: await tempDir() }), structure: new StandardStructure({ session }) });
    components = [
      await createComponent(session, { id: ids.version }, join(src, "f.%d.exr [1-3]"), { location: a }),
      await createComponent(session, { id: ids.version }, join(src, "movie.mov"), { location: a, name: "movie" }),
      await createComponent(session, { id: ids.version2 }, join(src, "movie.mov"), { location: a }),
    ];
  });

  it("finds the components under each kind of selection, without members", async () => {
    const find = async (entityType: string, entityId: string) => (await findComponents(session, [{ entityType, entityId }], a.id)).map((c) => c.id).sort();
    const all = components.map((c) => c.id).sort();
    expect(await find("Project", ids.project)).toEqual(all);
    expect(await find("TypedContext", ids.shot)).toEqual(all);
    expect(await find("TypedContext", ids.task)).toEqual([components[0]!.id, components[1]!.id].sort());
    expect(await find("AssetVersion", ids.version2)).toEqual([components[2]!.id]);
    expect(await find("Component", components[1]!.id as string)).toEqual([components[1]!.id]);
    expect(await findComponents(session, [{ entityType: "Project", entityId: ids.project }], b.id)).toEqual([]);
  });

  it("transferComponents skips what is already there and can ignore missing components", async () => {
    await b.addComponent(components[1]!, a);
    const r = await transferComponents({ source: a, target: b, components });
    expect(r).toEqual({ total: 3, transferred: 2, alreadyPresent: 1, missing: 0, failed: [] });
    const orphan = (await session.create("FileComponent", { name: "orphan", file_type: ".x", version_id: ids.version })).data;
    await expect(transferComponents({ source: a, target: b, components: [orphan] })).rejects.toMatchObject({ code: "LOCATION_COMPONENT_NOT_IN_LOCATION" });
    expect(await transferComponents({ source: a, target: b, components: [orphan], ignoreComponentNotInLocation: true })).toMatchObject({ missing: 1 });
  });

  it("runs as a Job that reports progress and the result", async () => {
    const updates: string[] = [];
    const realUpdate = session.update.bind(session);
    session.update = (type, keys, data) => {
      updates.push(JSON.parse(String(data.data)).description);
      return realUpdate(type, keys, data);
    };
    const r = await runTransferJob({ session, source: a, target: b, entities: [{ entityType: "Project", entityId: ids.project }] });
    expect(r.status).toBe("done");
    const job = session.memory.rows.get(r.jobId!)!;
    expect(job).toMatchObject({ status: "done", user_id: expect.any(String) });
    expect(JSON.parse(String(job.data)).description).toBe("Transferred 3 of 3 component(s) from studio.a to studio.b");
    expect(updates.slice(0, 3)).toEqual(["Transfer components (1 of 3)", "Transfer components (2 of 3)", "Transfer components (3 of 3)"]);
    expect(await b.getComponentAvailabilities(components)).toEqual([100, 100, 100]);
  });

  it("a failing transfer marks the Job failed with the reason", async () => {
    b.accessor = undefined;
    const r = await runTransferJob({ session, source: a, target: b, entities: [{ entityType: "Project", entityId: ids.project }] });
    expect(r.status).toBe("failed");
    expect(session.memory.rows.get(r.jobId!)).toMatchObject({ status: "failed" });
    expect(r.description).toMatch(/failed: no accessor is set for location studio.b/);
  });

  it("answers discover and launch events on the event hub", async () => {
    const action = createTransferAction({ session, locations: [a, b] });
    const stop = action.register();
    const event = (topic: string, data: Record<string, unknown>): FtrackEvent => ({
      topic, id: "e1", data: { selection: [{ entityType: "show", entityId: ids.project }], ...data }, source: { id: "client", user: { username: "api.user" } },
    });
    expect(await session.eventHub.publish(event("ftrack.action.discover", {}))).toEqual([
      { items: [{ label: "Transfer component(s)", description: expect.any(String), actionIdentifier: "transfer-components" }] },
    ]);
    expect(await session.eventHub.publish(event("ftrack.action.discover", { selection: [{ entityType: "user", entityId: "u" }] }))).toEqual([]);
    expect(await session.eventHub.publish(event("ftrack.action.launch", { actionIdentifier: "someone-else" }))).toEqual([]);
    const [form] = (await session.eventHub.publish(event("ftrack.action.launch", { actionIdentifier: "transfer-components" }))) as Record<string, unknown>[];
    expect(form).toMatchObject({ type: "form", items: expect.arrayContaining([expect.objectContaining({ name: "from_location", value: a.id })]) });
    const [same] = await session.eventHub.publish(event("ftrack.action.launch", { actionIdentifier: "transfer-components", values: { from_location: a.id, to_location: a.id } }));
    expect(same).toEqual({ success: false, message: "Source and target locations are the same." });
    const [started] = await session.eventHub.publish(event("ftrack.action.launch", { actionIdentifier: "transfer-components", values: { from_location: a.id, to_location: b.id } }));
    expect(started).toMatchObject({ success: true });
    const [result] = await action.whenIdle();
    expect(result).toMatchObject({ status: "done", description: "Transferred 3 of 3 component(s) from studio.a to studio.b" });
    expect(await readdir((b.accessor as DiskAccessor).prefix!)).toEqual(["proj"]);
    stop();
    expect(session.eventHub.count).toBe(0);
  });
});
