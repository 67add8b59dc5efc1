/** The ftrack command pieces with a fake session: configuration, location specs, the action listener. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import { Location } from "../../src/accessor/location.js";
import { StandardStructure } from "../../src/accessor/standard-structure.js";
import { UsageError } from "../../src/cli/errors.js";
import { ftrackConfig, openLocation, parseLocationSpec, runActionListener } from "../../src/cli/ftrack.js";
import { FakeSession } from "../accessor/support/fake-session.js";

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

  it("opens disk and studio.sftp locations, refuses others", async () => {
    const session = new FakeSession();
    const disk = await openLocation(session, { name: "local.disk", prefix: tmp }, {});
    expect(disk.name).toBe("local.disk");
    expect(disk.accessor).toBeInstanceOf(DiskAccessor);
    const sftp = await openLocation(session, { name: "studio.sftp" }, { FTRACK_SFTP_ACCESSOR_HOSTNAME: "127.0.0.1", FTRACK_SFTP_ACCESSOR_PORT: "1" });
    expect(sftp.name).toBe("studio.sftp");
    expect(sftp.priority).toBe(30);
    await sftp.accessor?.close();
    await expect(openLocation(session, { name: "ftrack.server" }, {})).rejects.toThrow(/write ftrack.server=DIR/);
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
