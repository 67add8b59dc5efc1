import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DiskAccessor } from "../../src/accessor/disk-accessor.js";
import { accessorContract } from "./support/accessor-contract.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "disk-accessor-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("DiskAccessor: the Accessor contract", () => {
  accessorContract(async () => new DiskAccessor({ prefix: await tempDir() }));
});

describe("DiskAccessor specifics", () => {
  it("maps identifiers under the prefix and back", async () => {
    const root = await tempDir();
    const a = new DiskAccessor({ prefix: root });
    expect(a.prefix).toBe(root);
    expect(await a.getFilesystemPath("p/v001/f.exr")).toBe(join(root, "p", "v001", "f.exr"));
    expect(await a.getUrl("p/a b.exr")).toBe(`file://${root}/p/a%20b.exr`);
    await a.makeContainer("p");
    await a.open("p/f", "wb").then(async (h) => { await h.write("on disk"); await h.close(); });
    expect(await readFile(join(root, "p", "f"), "utf8")).toBe("on disk");
  });

  it("accepts absolute paths inside the prefix (as Python) and refuses those outside", async () => {
    const root = await tempDir();
    const a = new DiskAccessor({ prefix: root });
    await a.makeContainer("in");
    expect(await a.isContainer(join(root, "in"))).toBe(true);
    expect(await a.list(join(root, "in"))).toEqual([]);
    expect(await a.getContainer(join(root, "in", "x"))).toBe("in");
    await expect(a.exists(join(root, "..", "elsewhere"))).rejects.toMatchObject({ code: "ACCESSOR_FILESYSTEM_PATH" });
    await expect(a.exists("/etc/passwd")).rejects.toMatchObject({ code: "ACCESSOR_FILESYSTEM_PATH" });
  });

  it("removes a symlink, not its target", async () => {
    const root = await tempDir();
    await writeFile(join(root, "target"), "keep");
    await symlink(join(root, "target"), join(root, "link"));
    const a = new DiskAccessor({ prefix: root });
    await a.remove("link");
    expect(await readdir(root)).toEqual(["target"]);
  });

  it("without a prefix, identifiers are file paths (a plain path as a source)", async () => {
    const root = await tempDir();
    await writeFile(join(root, "src.txt"), "hello");
    const a = new DiskAccessor();
    expect(a.prefix).toBeUndefined();
    expect(await a.isFile(join(root, "src.txt"))).toBe(true);
    const h = await a.open(join(root, "src.txt"));
    expect(new TextDecoder().decode(await h.read())).toBe("hello");
    await h.close();
    expect(await a.list(root)).toEqual([join(root, "src.txt")]);
    expect(await a.getContainer(join(root, "src.txt"))).toBe(root);
  });

  it("maps permission errors", async () => {
    if (process.getuid?.() === 0) return; // root bypasses file modes
    const root = await tempDir();
    await writeFile(join(root, "locked"), "x", { mode: 0o000 });
    await expect(new DiskAccessor({ prefix: root }).open("locked")).rejects.toMatchObject({ code: "ACCESSOR_PERMISSION_DENIED" });
  });
});
