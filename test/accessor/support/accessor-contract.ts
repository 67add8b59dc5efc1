/**
 * The behaviour every Accessor must have, as one test suite run against DiskAccessor (unit
 * tests) and SFTPAccessor (conformance, real OpenSSH). `make()` returns a fresh accessor
 * whose root is an empty directory.
 */
import { expect, it } from "vitest";
import { AccessorError, type Accessor } from "../../../src/accessor/accessor.js";

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

async function write(a: Accessor, id: string, data: Uint8Array | string): Promise<void> {
  const h = await a.open(id, "wb");
  await h.write(data);
  await h.close();
}

/** The whole of `id`, read through one handle. */
export async function readAll(a: Accessor, id: string): Promise<Uint8Array> {
  const h = await a.open(id, "rb");
  try {
    return await h.read();
  } finally {
    await h.close();
  }
}

/** Byte equality without vitest's slow element-wise diff of large arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e, "expected an AccessorError").toBeInstanceOf(AccessorError);
  return (e as AccessorError).code;
}

export function accessorContract(make: () => Promise<Accessor>): void {
  it("the root is an existing container", async () => {
    const a = await make();
    expect(await a.exists("")).toBe(true);
    expect(await a.isContainer("")).toBe(true);
    expect(await a.isFile("")).toBe(false);
    expect(await a.list("")).toEqual([]);
  });

  it("makes containers (recursive by default), idempotently", async () => {
    const a = await make();
    await a.makeContainer("p/sq/sh/v001");
    expect(await a.isContainer("p/sq/sh/v001")).toBe(true);
    await a.makeContainer("p/sq/sh/v001");
    await a.makeContainer("p/sq", { recursive: false });
    expect(await code(a.makeContainer("x/y", { recursive: false }))).toBe("ACCESSOR_PARENT_NOT_FOUND");
    await write(a, "p/file", "x");
    expect(await code(a.makeContainer("p/file"))).toBe("ACCESSOR_RESOURCE_INVALID");
  });

  it("isFile is false for containers and true for files (the Python bug)", async () => {
    const a = await make();
    await a.makeContainer("v001");
    await write(a, "v001/a.png", "a");
    expect(await a.isFile("v001")).toBe(false);
    expect(await a.isContainer("v001")).toBe(true);
    expect(await a.isFile("v001/a.png")).toBe(true);
    expect(await a.isContainer("v001/a.png")).toBe(false);
    expect(await a.exists("v001/a.png")).toBe(true);
    expect(await a.exists("v001/b.png")).toBe(false);
    expect(await a.isFile("v001/b.png")).toBe(false);
    // A second component in the same version directory.
    await a.makeContainer(await a.getContainer("v001/b.png"));
    await write(a, "v001/b.png", "b");
    expect(await a.list("v001")).toEqual(["v001/a.png", "v001/b.png"]);
  });

  it("writes atomically: nothing at the target until close, replaced whole", async () => {
    const a = await make();
    await write(a, "f.bin", "old contents");
    const h = await a.open("f.bin", "wb");
    await h.write(text("new "));
    await h.write("contents");
    expect(decode(await readAll(a, "f.bin"))).toBe("old contents");
    await h.close();
    await h.close(); // idempotent
    expect(decode(await readAll(a, "f.bin"))).toBe("new contents");
    const fresh = await a.open("g.bin", "wb");
    await fresh.write("g");
    expect(await a.exists("g.bin")).toBe(false);
    await fresh.close();
    expect(await a.list("")).toEqual(["f.bin", "g.bin"]);
  });

  it("abort discards a write and leaves no temporary file", async () => {
    const a = await make();
    const h = await a.open("f.bin", "wb");
    await h.write("partial");
    await h.abort();
    expect(await a.list("")).toEqual([]);
    await expect(h.write("more")).rejects.toBeInstanceOf(AccessorError);
  });

  it("reads whole, in pieces, and as a stream", async () => {
    const a = await make();
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);
    await write(a, "big", data);
    expect(sameBytes(await readAll(a, "big"), data)).toBe(true);
    const h = await a.open("big");
    expect(h.mode).toBe("rb");
    const first = await h.read(10);
    expect(sameBytes(first, data.subarray(0, 10))).toBe(true);
    const rest = await h.read();
    expect(sameBytes(rest, data.subarray(10))).toBe(true);
    expect(await h.read(5)).toEqual(new Uint8Array(0));
    await h.close();
    const s = await a.open("big", "rb");
    const chunks: Uint8Array[] = [];
    for await (const c of s.readable as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(data.length);
    expect(() => s.writable).toThrow(AccessorError);
  });

  it("writes through a WritableStream", async () => {
    const a = await make();
    const h = await a.open("w.txt", "wb");
    expect(() => h.readable).toThrow(AccessorError);
    const w = h.writable.getWriter();
    await w.write(text("via "));
    await w.write(text("stream"));
    await w.close();
    expect(decode(await readAll(a, "w.txt"))).toBe("via stream");
  });

  it("lists ids sorted and raises typed errors instead of returning []", async () => {
    const a = await make();
    await a.makeContainer("d/sub");
    await write(a, "d/b", "");
    await write(a, "d/a", "");
    expect(await a.list("d")).toEqual(["d/a", "d/b", "d/sub"]);
    expect(await a.list("d/")).toEqual(["d/a", "d/b", "d/sub"]);
    expect(await code(a.list("missing"))).toBe("ACCESSOR_RESOURCE_NOT_FOUND");
    expect(await code(a.list("d/a"))).toBe("ACCESSOR_RESOURCE_INVALID");
  });

  it("removes files and empty containers, refuses non-empty ones", async () => {
    const a = await make();
    await a.makeContainer("c/inner");
    await write(a, "c/inner/f", "x");
    expect(await code(a.remove("c/inner"))).toBe("ACCESSOR_CONTAINER_NOT_EMPTY");
    await a.remove("c/inner/f");
    await a.remove("c/inner");
    await a.remove("c");
    expect(await a.exists("c")).toBe(false);
    expect(await code(a.remove("c"))).toBe("ACCESSOR_RESOURCE_NOT_FOUND");
    expect(await code(a.remove(""))).toBe("ACCESSOR_RESOURCE_INVALID");
  });

  it("open errors are typed", async () => {
    const a = await make();
    await a.makeContainer("dir");
    expect(await code(a.open("nope.exr", "rb"))).toBe("ACCESSOR_RESOURCE_NOT_FOUND");
    expect(await code(a.open("dir", "rb"))).toBe("ACCESSOR_RESOURCE_INVALID");
    expect(await code(a.open("dir", "wb"))).toBe("ACCESSOR_RESOURCE_INVALID");
    expect(await code(a.open("no/such/dir/f", "wb"))).toBe("ACCESSOR_PARENT_NOT_FOUND");
    expect(await code(a.open("f", "r+" as never))).toBe("ACCESSOR_UNSUPPORTED");
    expect(await a.list("")).toEqual(["dir"]);
  });

  it("never leaves the root: .., absolute paths and NUL are refused before any I/O", async () => {
    const a = await make();
    for (const id of ["..", "../x", "a/../../x", "a/..", "/etc/passwd", "a\0b"]) {
      expect(await code(a.exists(id)), id).toBe("ACCESSOR_FILESYSTEM_PATH");
      expect(await code(a.open(id, "wb")), id).toBe("ACCESSOR_FILESYSTEM_PATH");
      expect(await code(a.remove(id)), id).toBe("ACCESSOR_FILESYSTEM_PATH");
      expect(await code(a.makeContainer(id)), id).toBe("ACCESSOR_FILESYSTEM_PATH");
      expect(await code(a.list(id)), id).toBe("ACCESSOR_FILESYSTEM_PATH");
    }
  });

  it("getContainer is the parent identifier", async () => {
    const a = await make();
    expect(await a.getContainer("a/b/c.exr")).toBe("a/b");
    expect(await a.getContainer("a")).toBe("");
    expect(await code(a.getContainer(""))).toBe("ACCESSOR_PARENT_NOT_FOUND");
  });

  it("isSequence finds members of a frame expression", async () => {
    const a = await make();
    await a.makeContainer("seq");
    await write(a, "seq/img.0001.exr", "1");
    await write(a, "seq/img.0002.exr", "2");
    expect(await a.isSequence("seq/img.%04d.exr")).toBe(true);
    expect(await a.isSequence("seq/img.%d.exr")).toBe(false);
    expect(await a.isSequence("seq/img.%05d.exr")).toBe(false);
    expect(await a.isSequence("seq/other.%04d.exr")).toBe(false);
    expect(await a.isSequence("seq/img.0001.exr")).toBe(false);
    expect(await a.isSequence("missing/img.%04d.exr")).toBe(false);
  });

  it("close() discards unfinished writes and the accessor works again afterwards", async () => {
    const a = await make();
    const h = await a.open("pending", "wb");
    await h.write("x");
    await a.close();
    expect(await a.list("")).toEqual([]);
    await write(a, "after", "y");
    expect(decode(await readAll(a, "after"))).toBe("y");
  });
}
