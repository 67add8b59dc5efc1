import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocal } from "../../src/platform/local-files.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("local files", () => {
  it("writev puts the parts one after another at the position, leaving what is before it", async () => {
    dir = await mkdtemp(join(tmpdir(), "local-files-"));
    const path = join(dir, "f.bin");
    const f = await openLocal(path, "w");
    await f.write(new Uint8Array(10).fill(9), 0);
    const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300_000).fill(4), new Uint8Array([5])];
    await f.writev(parts, 7);
    await f.close();
    const got = new Uint8Array(await readFile(path));
    expect(got.length).toBe(7 + 3 + 300_000 + 1);
    expect([...got.subarray(0, 11)]).toEqual([9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 4]);
    expect(got.subarray(10, 300_010).every((b) => b === 4)).toBe(true);
    expect(got[300_010]).toBe(5);
  });

  it("writev names the file in a LOCAL_ error when it cannot write", async () => {
    dir = await mkdtemp(join(tmpdir(), "local-files-"));
    const path = join(dir, "f.bin");
    await (await openLocal(path, "w")).close();
    const ro = await openLocal(path, "r");
    await expect(ro.writev([new Uint8Array(4)], 0)).rejects.toMatchObject({ code: "LOCAL_EBADF", message: expect.stringContaining("f.bin") });
    await ro.close();
  });
});
