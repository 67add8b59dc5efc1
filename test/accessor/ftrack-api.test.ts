/**
 * The layer with the real @ftrack/api Session, unchanged, against a local HTTP server that
 * speaks the ftrack JSON API operations these features use (query, create, update, delete,
 * query_schemas, query_server_information), backed by memory.
 */
import { Session } from "@ftrack/api";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createComponent } from "../../src/accessor/components.js";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import type { EventHubLike, FtrackEntity, SessionLike } from "../../src/accessor/ftrack.js";
import { Location } from "../../src/accessor/location.js";
import { registerSftpLocation, SFTP_LOCATION_NAME } from "../../src/accessor/plugin.js";
import { StandardStructure } from "../../src/accessor/standard-structure.js";
import { runTransferJob } from "../../src/accessor/transfer-action.js";
import { startFtrackServer, type FtrackServer } from "./support/fake-session.js";

// Compile-time: @ftrack/api's Session and EventHub fit the structural types the layer takes.
const _sessionFits = (s: Session): SessionLike => s;
const _hubFits = (s: Session): EventHubLike => s.eventHub;
void _sessionFits;
void _hubFits;

let server: FtrackServer;
let session: Session;
let tmp: string;

beforeAll(async () => {
  server = await startFtrackServer();
  session = new Session(server.url, "api.user", "secret-key", { decodeDatesAsIso: true });
  await session.initializing;
  tmp = await mkdtemp(join(tmpdir(), "ftrack-api-"));
});
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("with @ftrack/api's Session", () => {
  it("initialises against the fake server", () => {
    expect(session.initialized).toBe(true);
    expect(session.getPrimaryKeyAttributes("FileComponent")).toEqual(["id"]);
  });

  it("creates components in a location, loads attributes, transfers, removes", async () => {
    const m = server.memory;
    m.add("User", { username: "api.user" });
    const { version } = m.seedVersion({ project: "show", fullName: "The Show", contexts: [["Sequence", "sq01"], ["Shot", "sh0100"]], asset: "Comp Out", version: 7 });
    const src = join(tmp, "src");
    await import("node:fs/promises").then((fs) => fs.mkdir(src));
    for (let i = 1; i <= 10; i++) await writeFile(join(src, `out.${String(i).padStart(4, "0")}.exr`), `pixels ${i}`);
    await writeFile(join(src, "out.mov"), "movie bytes");

    const studio = await registerSftpLocation(session, { accessor: new DiskAccessor({ prefix: join(tmp, "studio") }) });
    expect(studio.name).toBe(SFTP_LOCATION_NAME);
    expect(studio.priority).toBe(30);
    const local = await Location.ensure(session, "ftrack.connect", { accessor: new DiskAccessor({ prefix: join(tmp, "local") }), structure: new StandardStructure({ session }) });

    // The version as a caller would query it: only the id.
    const v: FtrackEntity = (await session.query(`select id from AssetVersion where id is "${version.id}"`)).data[0]!;
    const movie = await createComponent(session, v, join(src, "out.mov"), { location: studio });
    const seq = await createComponent(session, v, join(src, "out.%04d.exr [1-10]"), { location: studio, name: "render" });
    const base = "show/sq01/sh0100/comp_out/v007";
    expect(await studio.getResourceIdentifier(movie)).toBe(`${base}/main.mov`);
    expect(await studio.getResourceIdentifier(seq)).toBe(`${base}/render.%04d.exr`);
    expect(await readFile(join(tmp, "studio", base, "render.0003.exr"), "utf8")).toBe("pixels 3");

    // Back to the local location (Python: ftrack_location.add_component(component, sftp_location)).
    const fetched = (await session.query(`select id, name from Component where version_id is "${version.id}"`)).data;
    await local.addComponents(fetched, studio);
    expect(await local.getComponentAvailabilities(fetched)).toEqual([100, 100]);
    expect(await readFile(join(tmp, "local", base, "render.0010.exr"), "utf8")).toBe("pixels 10");
    expect(await local.getFilesystemPath(movie)).toBe(join(tmp, "local", base, "main.mov"));

    // The transfer action's job, through the real session.
    await local.removeComponents(fetched);
    const job = await runTransferJob({ session, source: studio, target: local, entities: [{ entityType: "AssetVersion", entityId: version.id }] });
    expect(job).toMatchObject({ status: "done", description: "Transferred 2 of 2 component(s) from studio.sftp to ftrack.connect" });
    expect(m.rows.get(job.jobId!)).toMatchObject({ status: "done" });

    await studio.removeComponents([movie, seq]);
    expect(await studio.getComponentAvailabilities([movie, seq])).toEqual([0, 0]);
    // Every request was a plain JSON API batch the server understood.
    expect(server.requests.flat().map((op) => op.action)).not.toContain(undefined);
  });
});
