/**
 * StandardStructure against ftrack's Python implementation. The table's `expected` values were
 * produced by running ftrack-python's own `source/ftrack_api/structure/standard.py` (and
 * structure/base.py) on stub entities with the same attributes; the first sixteen rows are the
 * cases of ftrack-python's test/unit/structure/test_standard.py, whose expectations they match.
 */
import { describe, expect, it } from "vitest";
import { StandardStructure, StructureError, formatVersion, posixDirname } from "../../src/accessor/standard-structure.js";
import type { FtrackEntity } from "../../src/accessor/ftrack.js";
import { FakeSession } from "./support/fake-session.js";

interface Case {
  id: string;
  project: string;
  projectFullName?: string;
  contexts: string[];
  asset: string;
  version: number;
  prefix?: string;
  substitute?: string | null;
  component: Record<string, unknown>;
  expected: string;
}

// prettier-ignore
const TABLE: Case[] = [
  {"id": "file on project", "project": "python_api_test", "contexts": [], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/my_new_asset/v001/foo.png"},
  {"id": "file on project with prefix", "project": "python_api_test", "contexts": [], "asset": "my_new_asset", "version": 1, "prefix": "foobar", "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/foobar/my_new_asset/v001/foo.png"},
  {"id": "prefix ignored below the project", "project": "python_api_test", "contexts": ["sq010"], "asset": "my_new_asset", "version": 1, "prefix": "foobar", "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/sq010/my_new_asset/v001/foo.png"},
  {"id": "file with hierarchy", "project": "python_api_test", "contexts": ["baz1", "bar"], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/baz1/bar/my_new_asset/v001/foo.png"},
  {"id": "sequence", "project": "python_api_test", "contexts": ["baz2", "bar"], "asset": "my_new_asset", "version": 1, "component": {"type": "SequenceComponent", "name": "baz", "file_type": ".jpg", "padding": 4}, "expected": "python_api_test/baz2/bar/my_new_asset/v001/baz.%04d.jpg"},
  {"id": "sequence member", "project": "python_api_test", "contexts": ["baz3", "bar"], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "0004", "file_type": ".jpg", "container": {"type": "SequenceComponent", "name": "baz", "file_type": ".jpg", "padding": 4}}, "expected": "python_api_test/baz3/bar/my_new_asset/v001/baz.0004.jpg"},
  {"id": "container", "project": "python_api_test", "contexts": ["baz4", "bar"], "asset": "my_new_asset", "version": 1, "component": {"type": "ContainerComponent", "name": "container_component"}, "expected": "python_api_test/baz4/bar/my_new_asset/v001/container_component"},
  {"id": "container member", "project": "python_api_test", "contexts": ["baz5", "bar"], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png", "container": {"type": "ContainerComponent", "name": "container_component"}}, "expected": "python_api_test/baz5/bar/my_new_asset/v001/container_component/foo.png"},
  {"id": "non-ascii hierarchy", "project": "python_api_test", "contexts": ["björn"], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/bjorn/my_new_asset/v001/foo.png"},
  {"id": "illegal hierarchy", "project": "python_api_test", "contexts": ["björn!"], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/bjorn_/my_new_asset/v001/foo.png"},
  {"id": "non-ascii component name", "project": "python_api_test", "contexts": [], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "fää", "file_type": ".png"}, "expected": "python_api_test/my_new_asset/v001/faa.png"},
  {"id": "illegal component name", "project": "python_api_test", "contexts": [], "asset": "my_new_asset", "version": 1, "component": {"type": "FileComponent", "name": "fo/o", "file_type": ".png"}, "expected": "python_api_test/my_new_asset/v001/fo_o.png"},
  {"id": "non-ascii asset", "project": "python_api_test", "contexts": [], "asset": "åäö", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/aao/v001/foo.png"},
  {"id": "illegal asset", "project": "python_api_test", "contexts": [], "asset": "my_ne!!!!w_asset", "version": 1, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/my_ne____w_asset/v001/foo.png"},
  {"id": "no sanitising", "project": "python_api_test", "contexts": ["björn2"], "asset": "my_new_asset", "version": 1, "substitute": null, "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/björn2/my_new_asset/v001/foo.png"},
  {"id": "other substitute", "project": "python_api_test", "contexts": ["bj!rn"], "asset": "my_new_asset", "version": 1, "substitute": "^", "component": {"type": "FileComponent", "name": "foo", "file_type": ".png"}, "expected": "python_api_test/bj^rn/my_new_asset/v001/foo.png"},
  {"id": "studio shot hierarchy", "project": "My Film", "contexts": ["SQ010", "SH010", "Compositing"], "asset": "Main Plate", "version": 12, "component": {"type": "FileComponent", "name": "main", "file_type": ".EXR"}, "expected": "my_film/sq010/sh010/compositing/main_plate/v012/main.exr"},
  {"id": "version 1234", "project": "film", "contexts": ["sh010"], "asset": "plate", "version": 1234, "component": {"type": "FileComponent", "name": "main", "file_type": ".mov"}, "expected": "film/sh010/plate/v1234/main.mov"},
  {"id": "negative version", "project": "film", "contexts": [], "asset": "plate", "version": -3, "component": {"type": "FileComponent", "name": "main", "file_type": ".mov"}, "expected": "film/plate/v-03/main.mov"},
  {"id": "sequence without padding", "project": "film", "contexts": ["sh010"], "asset": "plate", "version": 2, "component": {"type": "SequenceComponent", "name": "My Seq", "file_type": ".EXR", "padding": 0}, "expected": "film/sh010/plate/v002/my_seq.%d.exr"},
  {"id": "sequence padding null", "project": "film", "contexts": ["sh010"], "asset": "plate", "version": 2, "component": {"type": "SequenceComponent", "name": "beauty", "file_type": ".exr", "padding": null}, "expected": "film/sh010/plate/v002/beauty.%d.exr"},
  {"id": "unpadded member", "project": "film", "contexts": ["sh010"], "asset": "plate", "version": 2, "component": {"type": "FileComponent", "name": "7", "file_type": ".EXR", "container": {"type": "SequenceComponent", "name": "My Seq", "file_type": ".EXR", "padding": 0}}, "expected": "film/sh010/plate/v002/my_seq.7.exr"},
  {"id": "member unsanitised", "project": "Film X", "contexts": ["SH 010"], "asset": "Plate", "version": 2, "substitute": null, "component": {"type": "FileComponent", "name": "0001", "file_type": ".EXR", "container": {"type": "SequenceComponent", "name": "My Seq", "file_type": ".EXR", "padding": 4}}, "expected": "Film X/SH 010/Plate/v002/My Seq.0001.EXR"},
  {"id": "sequence unsanitised", "project": "Film X", "contexts": ["SH 010"], "asset": "Plate", "version": 2, "substitute": null, "component": {"type": "SequenceComponent", "name": "My Seq", "file_type": ".EXR", "padding": 4}, "expected": "Film X/SH 010/Plate/v002/My Seq.%04d.EXR"},
  {"id": "container member with spaces", "project": "film", "contexts": ["sh010"], "asset": "docs", "version": 1, "component": {"type": "FileComponent", "name": "Foo Bar", "file_type": ".PDF", "container": {"type": "ContainerComponent", "name": "Review Pack"}}, "expected": "film/sh010/docs/v001/review_pack/foo_bar.pdf"},
  {"id": "compatibility characters", "project": "film", "contexts": ["ﬁnal", "Ａ1", "镜头"], "asset": "plate", "version": 1, "component": {"type": "FileComponent", "name": "main", "file_type": ".mov"}, "expected": "film/final/a1//plate/v001/main.mov"},
  {"id": "spaces at the ends", "project": " film ", "contexts": ["\tsh010 "], "asset": "plate", "version": 1, "component": {"type": "FileComponent", "name": " main ", "file_type": ".mov"}, "expected": "_film_/_sh010_/plate/v001/_main_.mov"},
  {"id": "space substitute is stripped", "project": "film", "contexts": ["a!b!"], "asset": "plate", "version": 1, "substitute": " ", "component": {"type": "FileComponent", "name": "main", "file_type": ".mov"}, "expected": "film/a b/plate/v001/main.mov"},
  {"id": "dots and dashes kept", "project": "film", "contexts": ["v1.2-final"], "asset": "plate_v2.0", "version": 1, "component": {"type": "FileComponent", "name": "main-take.2", "file_type": ".tar.gz"}, "expected": "film/v1.2-final/plate_v2.0/v001/main-take.2.tar.gz"},
  {"id": "empty file type", "project": "film", "contexts": [], "asset": "plate", "version": 1, "component": {"type": "FileComponent", "name": "README", "file_type": ""}, "expected": "film/plate/v001/readme"},
  {"id": "unsupported entity", "project": "film", "contexts": [], "asset": "plate", "version": 1, "component": {"type": "User", "name": "x"}, "expected": "ERROR NotImplementedError"},
];

/** Entities shaped as @ftrack/api returns them for a query selecting the needed attributes. */
function entities(c: Case): FtrackEntity {
  const project = { __entity_type__: "Project", id: "p1", name: c.project };
  const link = [
    { id: "p1", name: "Full Name", type: "Project" },
    ...c.contexts.map((name, i) => ({ id: `c${i}`, name, type: "TypedContext" })),
    { id: "v1", name: `${c.asset} v${c.version}`, type: "AssetVersion" },
  ];
  const version = { __entity_type__: "AssetVersion", id: "v1", version: c.version, link, asset: { __entity_type__: "Asset", id: "a1", name: c.asset, project } };
  const build = (d: Record<string, unknown>): FtrackEntity => {
    const { type, container, ...rest } = d;
    const e: FtrackEntity = { __entity_type__: type as string, id: `id-${String(rest.name)}`, ...rest };
    if (container) e.container = build(container as Record<string, unknown>);
    else Object.assign(e, { container: null, version });
    return e;
  };
  return build(c.component);
}

function structureFor(c: Case, session?: FakeSession): StandardStructure {
  return new StandardStructure({
    ...(c.prefix !== undefined ? { projectVersionsPrefix: c.prefix } : {}),
    ...(c.substitute !== undefined ? { illegalCharacterSubstitute: c.substitute } : {}),
    ...(session ? { session } : {}),
  });
}

describe("StandardStructure gives the identifiers of ftrack's Python StandardStructure", () => {
  for (const c of TABLE) {
    it(c.id, async () => {
      const result = structureFor(c).getResourceIdentifier(entities(c));
      if (c.expected.startsWith("ERROR")) {
        await expect(result).rejects.toMatchObject({ code: "STRUCTURE_UNSUPPORTED_ENTITY" });
      } else {
        expect(await result).toBe(c.expected);
      }
    });
  }

  it("loads every missing attribute through the session, using Project.name (not link[0].name)", async () => {
    for (const c of TABLE.filter((t) => !t.expected.startsWith("ERROR"))) {
      const session = new FakeSession();
      const m = session.memory;
      const { version } = m.seedVersion({
        project: c.project, fullName: "Full Name That Must Not Appear", asset: c.asset, version: c.version,
        contexts: c.contexts.map((n): [string, string] => ["Folder", n]),
      });
      const make = (d: Record<string, unknown>): string => {
        const { type, container, ...rest } = d;
        const data: Record<string, unknown> = { ...rest };
        if (container) data.container_id = make(container as Record<string, unknown>);
        else data.version_id = version.id;
        return m.add(type as string, data).id;
      };
      const id = make(c.component);
      const bare = { __entity_type__: String(c.component.type), id };
      expect(await structureFor(c, session).getResourceIdentifier(bare), c.id).toBe(c.expected);
    }
  });

  it("batches loads: a bare FileComponent takes one query per entity level", async () => {
    const session = new FakeSession();
    const { version } = session.memory.seedVersion({ contexts: [["Shot", "sh010"]] });
    const c = session.memory.add("FileComponent", { name: "main", file_type: ".exr", version_id: version.id });
    const structure = new StandardStructure({ session });
    expect(await structure.getResourceIdentifier({ __entity_type__: "FileComponent", id: c.id })).toBe("proj/sh010/asset/v001/main.exr");
    // component, version, asset, project
    expect(session.memory.log.filter((l) => l.action === "query")).toHaveLength(4);
  });

  it("uses version_id when version is not loaded, like Python", async () => {
    const session = new FakeSession();
    const { version } = session.memory.seedVersion({ project: "p", asset: "a", version: 3 });
    const structure = new StandardStructure({ session });
    const id = await structure.getResourceIdentifier({ __entity_type__: "FileComponent", id: "x", name: "n", file_type: ".txt", container: null, version_id: version.id });
    expect(id).toBe("p/a/v003/n.txt");
  });

  it("takes the project name from version.project too", async () => {
    const c = TABLE[0]!;
    const e = entities(c);
    const version = e.version as FtrackEntity;
    const asset = { ...(version.asset as FtrackEntity) };
    delete asset.project;
    e.version = { ...version, asset, project: { __entity_type__: "Project", id: "p1", name: "Other" } };
    expect(await new StandardStructure().getResourceIdentifier(e)).toBe("other/my_new_asset/v001/foo.png");
  });

  it("names the missing attribute when there is no session", async () => {
    const missing = async (mutate: (e: FtrackEntity) => void) => {
      const e = entities(TABLE[0]!);
      mutate(e);
      const err = await new StandardStructure().getResourceIdentifier(e).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(StructureError);
      expect((err as StructureError).code).toBe("STRUCTURE_MISSING_ATTRIBUTE");
      return (err as StructureError).attribute;
    };
    expect(await missing((e) => delete e.file_type)).toBe("file_type");
    expect(await missing((e) => delete e.version)).toBe("version");
    expect(await missing((e) => delete (e.version as FtrackEntity).link)).toBe("version.link");
    expect(await missing((e) => delete ((e.version as FtrackEntity).asset as FtrackEntity).name)).toBe("version.asset.name");
    expect(await missing((e) => delete ((e.version as FtrackEntity).asset as FtrackEntity).project)).toBe("version.project.name");
    const err = await new StandardStructure().getResourceIdentifier({ __entity_type__: "FileComponent", name: "x", file_type: "" }).catch((x: StructureError) => x);
    expect((err as StructureError).message).toMatch(/"container" is not loaded/);
  });

  it("refuses components without a version or with an empty link", async () => {
    const e = entities(TABLE[0]!);
    await expect(new StandardStructure().getResourceIdentifier({ ...e, version: null })).rejects.toMatchObject({ code: "STRUCTURE_NO_VERSION" });
    await expect(new StandardStructure().getResourceIdentifier({ ...e, version: { ...(e.version as FtrackEntity), link: [] } })).rejects.toMatchObject({ code: "STRUCTURE_NO_VERSION" });
    await expect(new StandardStructure().getResourceIdentifier({ ...e, version: { ...(e.version as FtrackEntity), version: 1.5 } })).rejects.toMatchObject({ code: "STRUCTURE_INVALID_ATTRIBUTE" });
  });

  it("wraps session failures", async () => {
    const session = { query: async () => { throw new Error("boom"); } };
    await expect(new StandardStructure({ session }).getResourceIdentifier({ __entity_type__: "FileComponent", id: "x" })).rejects.toMatchObject({ code: "STRUCTURE_QUERY_FAILED" });
  });

  it("does not modify the entities it is given", async () => {
    const session = new FakeSession();
    const { version } = session.memory.seedVersion();
    const c = session.memory.add("FileComponent", { name: "main", file_type: ".exr", version_id: version.id });
    const bare = { __entity_type__: "FileComponent", id: c.id };
    await new StandardStructure({ session }).getResourceIdentifier(bare);
    expect(bare).toEqual({ __entity_type__: "FileComponent", id: c.id });
  });
});

describe("Python formatting helpers", () => {
  it('formatVersion = "v{0:03d}".format', () => {
    expect([0, 1, 12, 123, 1234, -1, -12, -123].map(formatVersion)).toEqual(["v000", "v001", "v012", "v123", "v1234", "v-01", "v-12", "v-123"]);
  });
  it("posixDirname = posixpath.dirname", () => {
    expect(["a/b/c", "a", "/a", "a//b", "//a", "/", "a/b/"].map(posixDirname)).toEqual(["a/b", "", "/", "a", "//", "/", "a/b"]);
  });
  it("sanitiseForFilesystem", () => {
    const s = new StandardStructure();
    expect(s.sanitiseForFilesystem("Björn Ångström!")).toBe("bjorn_angstrom_");
    expect(s.sanitiseForFilesystem(42)).toBe("42");
    expect(new StandardStructure({ illegalCharacterSubstitute: "$&" }).sanitiseForFilesystem("a b")).toBe("a$&b");
    expect(new StandardStructure({ illegalCharacterSubstitute: null }).sanitiseForFilesystem("A B")).toBe("A B");
  });
});
