/** The server's handle table never keeps a descriptor it cannot hand out. */
import { describe, expect, it } from "vitest";
import type { FsFile } from "../../src/platform/server-fs.js";
import { HandleTable } from "../../src/sftp/server/handles.js";

function fakeFile() {
  const f = { closed: 0, close: async () => void f.closed++ };
  return f;
}
const handle = (f: ReturnType<typeof fakeFile>) => ({ kind: "file" as const, file: f as unknown as FsFile, host: "/x" });

describe("HandleTable", () => {
  it("closes a file opened while the session ended (its OPEN was in progress), and refuses it", async () => {
    const t = new HandleTable(10);
    const early = fakeFile();
    t.add(handle(early));
    await t.closeAll();
    expect(early.closed).toBe(1);
    const late = fakeFile();
    expect(() => t.add(handle(late))).toThrow(/ended/);
    await Promise.resolve();
    expect(late.closed).toBe(1);
    expect(t.size).toBe(0);
  });

  it("closes a file that finds the table full instead of leaking it", async () => {
    const t = new HandleTable(1);
    t.add(handle(fakeFile()));
    const extra = fakeFile();
    expect(() => t.add(handle(extra))).toThrow(/too many open handles/);
    await Promise.resolve();
    expect(extra.closed).toBe(1);
    expect(t.size).toBe(1);
  });
});
