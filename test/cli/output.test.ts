import { describe, expect, it } from "vitest";
import {
  byteUnits, dfJson, entryJson, fileType, formatDf, formatLong, formatStat, humanSize, isoTime, lsTime, namesFromLongname, octalMode,
  permissionString, printResult, toJson,
} from "../../src/cli/output.js";
import { Stats } from "../../src/sftp/attrs.js";
import type { StatvfsReply } from "../../src/sftp/extensions/statvfs.js";

function sink() {
  let text = "";
  return { write: (s: string) => ((text += s), true), get text() { return text; } } as unknown as NodeJS.WritableStream & { text: string };
}

describe("modes", () => {
  it("prints permissions like ls", () => {
    expect(permissionString(0o100644)).toBe("-rw-r--r--");
    expect(permissionString(0o040755)).toBe("drwxr-xr-x");
    expect(permissionString(0o120777)).toBe("lrwxrwxrwx");
    expect(permissionString(0o104755)).toBe("-rwsr-xr-x");
    expect(permissionString(0o102644)).toBe("-rw-r-Sr--");
    expect(permissionString(0o041777)).toBe("drwxrwxrwt");
    expect(permissionString(0o010600)).toBe("prw-------");
    expect(permissionString(undefined)).toBe("?---------");
    expect(octalMode(0o100640)).toBe("0640");
  });

  it("names file types", () => {
    expect(fileType(0o100644)).toBe("file");
    expect(fileType(0o040000)).toBe("directory");
    expect(fileType(0o120000)).toBe("symlink");
    expect(fileType(0o140000)).toBe("socket");
    expect(fileType(0o060000)).toBe("block-device");
    expect(fileType(undefined)).toBe("unknown");
  });
});

describe("sizes and times", () => {
  it("formats sizes as ls -h and with binary units", () => {
    expect(humanSize(0)).toBe("0");
    expect(humanSize(1023)).toBe("1023");
    expect(humanSize(1536)).toBe("1.5K");
    expect(humanSize(10 * 1024 * 1024)).toBe("10M");
    expect(humanSize(1.04 * 1024 ** 3)).toBe("1.1G");
    expect(byteUnits(0)).toBe("0 B");
    expect(byteUnits(26.3)).toBe("26 B");
    expect(byteUnits(1536)).toBe("1.5 KiB");
    expect(byteUnits(50 * 1024 * 1024)).toBe("50.0 MiB");
  });

  it("formats ls dates: time within six months, else the year (UTC)", () => {
    const now = Date.UTC(2025, 5, 15, 12, 0, 0);
    expect(lsTime(Date.UTC(2025, 5, 1, 9, 5) / 1000, now)).toBe("Jun  1 09:05");
    expect(lsTime(Date.UTC(2023, 11, 24) / 1000, now)).toBe("Dec 24  2023");
    expect(isoTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(isoTime(undefined)).toBeUndefined();
  });
});

describe("entries", () => {
  const file = new Stats({ size: 1234, permissions: 0o100644, uid: 1000, gid: 100, atime: 1_700_000_000, mtime: 1_700_000_000 });
  const link = new Stats({ size: 7, permissions: 0o120777, uid: 0, gid: 0, mtime: 1_700_000_000 });

  it("takes owner names from an OpenSSH longname", () => {
    expect(namesFromLongname("-rw-r--r--    1 alice    staff        1234 Nov 14 22:13 a.txt")).toEqual({ owner: "alice", group: "staff" });
    expect(namesFromLongname("garbage")).toEqual({});
    expect(namesFromLongname(undefined)).toEqual({});
  });

  it("builds the JSON entry", () => {
    expect(entryJson("a.txt", file, { longname: "-rw-r--r--    1 alice    staff        1234 Nov 14 22:13 a.txt" })).toEqual({
      name: "a.txt", type: "file", size: 1234, mode: 0o100644, permissions: "-rw-r--r--", uid: 1000, gid: 100, owner: "alice", group: "staff",
      atime: 1_700_000_000, mtime: 1_700_000_000,
    });
    expect(entryJson("l", link, { target: "a.txt" })).toMatchObject({ type: "symlink", target: "a.txt" });
    expect(entryJson("x", new Stats({}))).toEqual({ name: "x", type: "unknown" });
  });

  it("aligns ls -l columns", () => {
    const now = 1_700_000_000_000;
    const text = formatLong([entryJson("a.txt", file), entryJson("l", link, { target: "a.txt" })], { nowMs: now });
    expect(text.split("\n")).toEqual([
      "-rw-r--r-- 1000 100 1234 Nov 14 22:13 a.txt",
      "lrwxrwxrwx 0    0      7 Nov 14 22:13 l -> a.txt",
    ]);
    expect(formatLong([entryJson("a.txt", file)], { human: true, nowMs: now })).toContain(" 1.3K ");
  });

  it("prints stat like coreutils", () => {
    const text = formatStat("/srv/a.txt", entryJson("a.txt", file));
    expect(text).toContain("  File: /srv/a.txt");
    expect(text).toContain("Type: regular file");
    expect(text).toContain("Access: (0644/-rw-r--r--)  Uid: 1000  Gid: 100");
    expect(text).toContain("Modify: 2023-11-14T22:13:20.000Z");
  });
});

describe("df", () => {
  const v: StatvfsReply = {
    bsize: 4096n, frsize: 4096n, blocks: 1000n, bfree: 400n, bavail: 300n, files: 500n, ffree: 100n, favail: 90n, fsid: 1n, flag: 1n, namemax: 255n,
  };

  it("computes bytes and flags", () => {
    expect(dfJson("/", v)).toEqual({
      path: "/", blockSize: 4096, fragmentSize: 4096, blocks: 1000, blocksFree: 400, blocksAvailable: 300, files: 500, filesFree: 100,
      filesAvailable: 90, readOnly: true, nameMax: 255, size: 4_096_000, used: 2_457_600, available: 1_228_800,
    });
  });

  it("prints a df table in 1K blocks, human sizes, or inodes", () => {
    const d = dfJson("/data", v);
    expect(formatDf(d).split("\n")).toEqual(["1K-blocks  Used  Avail  Use%  Path", "     4000  2400   1200   67%  /data"]);
    expect(formatDf(d, { human: true }).split("\n")[1]).toBe("4.0M  2.4M   1.2M   67%  /data");
    expect(formatDf(d, { inodes: true }).split("\n")[1]).toMatch(/^\s*500\s+400\s+90\s+82%\s+\/data$/);
  });
});

describe("printing", () => {
  it("prints JSON on one line (bigints as numbers, or strings past 2^53) or the text", () => {
    expect(toJson({ a: 1n, b: 2n ** 60n })).toBe('{"a":1,"b":"1152921504606846976"}');
    const out = sink();
    printResult({ json: { ok: true }, text: "human" }, true, out);
    printResult({ json: { ok: true }, text: "human" }, false, out);
    printResult({ json: {}, text: "" }, false, out);
    printResult({ json: undefined, text: "" }, true, out);
    expect(out.text).toBe('{"ok":true}\nhuman\n');
  });
});
