/**
 * The jail: every way out of the root — "..", absolute paths, symlinks made outside the server
 * (to "/" and to files and directories beyond the root), renames, hard links, symlinks a client
 * tries to create — is refused, and nothing outside the root is read or changed.
 */
import { lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SftpClient } from "../../src/sftp/client.js";
import { FsError, openFile } from "../../src/platform/server-fs.js";
import { Jail } from "../../src/sftp/server/jail.js";
import { startTestServer, type TestServer } from "./helpers.js";

const code = (p: Promise<unknown>) => p.then(() => "OK", (e: { code?: string }) => e.code ?? String(e));

describe("jail path arithmetic", () => {
  const jail = Object.create(Jail.prototype) as Jail;
  it("normalises like chroot: '..' stops at the root", () => {
    expect(jail.virtual("../../etc/passwd")).toBe("/etc/passwd");
    expect(jail.virtual("/a/./b/../../../c")).toBe("/c");
    expect(jail.virtual("")).toBe("/");
    expect(jail.virtual("a//b/", "/x")).toBe("/x/a/b");
  });
  it("tells when a relative symlink target climbs above the root", () => {
    expect(jail.escapes("/", "../x")).toBe(true);
    expect(jail.escapes("/a/b", "../../x")).toBe(false);
    expect(jail.escapes("/a/b", "../../../x")).toBe(true);
    expect(jail.escapes("/a", "b/../../x")).toBe(false);
    expect(jail.escapes("/a", "b/../../../x")).toBe(true);
  });
});

describe("jail escapes against the running server", () => {
  let t: TestServer;
  let c: SftpClient;
  let secret: string;
  const SECRET = "outside the root";

  beforeAll(async () => {
    t = await startTestServer();
    secret = join(t.base, "secret.txt");
    await writeFile(secret, SECRET);
    await mkdir(join(t.base, "outdir"));
    await writeFile(join(t.base, "outdir", "victim"), "v");
    // Symlinks made on the host, outside the server's control.
    await symlink("/", join(t.root, "escape"));
    await symlink(secret, join(t.root, "leak"));
    await symlink("../secret.txt", join(t.root, "relleak"));
    await symlink(join(t.base, "outdir"), join(t.root, "outdir"));
    await writeFile(join(t.root, "inside.txt"), "in");
    c = await t.connect();
  });
  afterAll(async () => {
    await c?.close();
    await t?.stop();
  });

  it("'..' and absolute paths stay inside the root", async () => {
    expect(await code(c.readFile("../../etc/passwd"))).toBe("NO_SUCH_FILE");
    expect(await code(c.readFile("/etc/passwd"))).toBe("NO_SUCH_FILE");
    expect(await code(c.stat("/../../../../etc/passwd"))).toBe("NO_SUCH_FILE");
    expect(await c.realpath("../../..")).toBe("/");
    expect((await c.list("/..")).map((e) => e.name).sort()).toEqual(["escape", "inside.txt", "leak", "outdir", "relleak"]);
    expect(await code(c.writeFile("../../../secret.txt", "x"))).toBe("OK"); // lands inside the root
    expect(await readFile(join(t.root, "secret.txt"), "utf8")).toBe("x");
    expect(await readFile(secret, "utf8")).toBe(SECRET);
  });

  it("a symlink to / made outside the server cannot be followed", async () => {
    expect(await code(c.readFile("/escape/etc/passwd"))).toBe("PERMISSION_DENIED");
    expect(await code(c.stat("/escape"))).toBe("PERMISSION_DENIED");
    expect(await code(c.list("/escape"))).toBe("PERMISSION_DENIED");
    expect(await code(c.list("/escape/tmp"))).toBe("PERMISSION_DENIED");
    expect(await code(c.realpath("/escape/etc"))).toBe("PERMISSION_DENIED");
    expect(await code(c.writeFile(`/escape${t.base}/dropped`, "x"))).toBe("PERMISSION_DENIED");
    expect(await code(c.mkdir(`/escape${t.base}/newdir`))).toBe("PERMISSION_DENIED");
    expect(await code(c.statvfs("/escape"))).toBe("PERMISSION_DENIED");
    expect(await code(c.chmod("/escape/tmp", 0o777))).toBe("PERMISSION_DENIED");
    expect(await readdir(t.base)).toEqual(expect.not.arrayContaining(["dropped", "newdir"]));
    // lstat of the link itself is fine: it is an entry inside the root.
    expect((await c.lstat("/escape")).isSymbolicLink()).toBe(true);
  });

  it("symlinks to files and directories outside cannot be read, written or changed through", async () => {
    expect(await code(c.readFile("/leak"))).toBe("PERMISSION_DENIED");
    expect(await code(c.readFile("/relleak"))).toBe("PERMISSION_DENIED");
    expect(await code(c.writeFile("/leak", "overwritten"))).toBe("PERMISSION_DENIED");
    expect(await code(c.open("/leak", "a"))).toBe("PERMISSION_DENIED");
    expect(await code(c.chmod("/leak", 0o777))).toBe("PERMISSION_DENIED");
    expect(await code(c.utimes("/leak", 1, 1))).toBe("PERMISSION_DENIED");
    expect(await code(c.list("/outdir"))).toBe("PERMISSION_DENIED");
    expect(await code(c.remove("/outdir/victim"))).toBe("PERMISSION_DENIED");
    expect(await code(c.rename("/outdir/victim", "/stolen"))).toBe("PERMISSION_DENIED");
    expect(await readFile(secret, "utf8")).toBe(SECRET);
    expect((await stat(secret)).mode & 0o777).not.toBe(0o777);
    expect(await readdir(join(t.base, "outdir"))).toEqual(["victim"]);
  });

  it("readlink refuses targets that lead out, and answers inside ones as virtual paths", async () => {
    expect(await code(c.readlink("/escape"))).toBe("PERMISSION_DENIED");
    expect(await code(c.readlink("/leak"))).toBe("PERMISSION_DENIED");
    expect(await code(c.readlink("/relleak"))).toBe("PERMISSION_DENIED");
    expect(await code(c.readlink("../../etc/passwd"))).toBe("NO_SUCH_FILE");
    await symlink(join(t.root, "inside.txt"), join(t.root, "abs-inside"));
    expect(await c.readlink("/abs-inside")).toBe("/inside.txt");
    await symlink(`${t.root}/../secret.txt`, join(t.root, "dotdot"));
    expect(await code(c.readlink("/dotdot"))).toBe("PERMISSION_DENIED");
  });

  it("rename and hardlink cannot move anything out or pull anything in", async () => {
    await c.writeFile("/mine", "m");
    expect(await code(c.rename("/mine", "../../../moved-out"))).toBe("OK"); // stays inside
    expect(await readFile(join(t.root, "moved-out"), "utf8")).toBe("m");
    expect(await code(c.rename("/moved-out", `/escape${t.base}/moved-out`))).toBe("PERMISSION_DENIED");
    expect(await code(c.rename("/moved-out", "/outdir/moved-out"))).toBe("PERMISSION_DENIED");
    expect(await code(c.rename("/moved-out", "/outdir"))).toBe("FAILURE"); // the link exists: v3 rename never replaces
    expect(await code(c.hardlink(`/escape${secret}`, "/stolen"))).toBe("PERMISSION_DENIED");
    expect(await code(c.hardlink("/outdir/victim", "/stolen"))).toBe("PERMISSION_DENIED");
    expect(await code(c.rename("/", "/x"))).toBe("PERMISSION_DENIED");
    expect(await readdir(t.base)).toEqual(expect.not.arrayContaining(["moved-out"]));
    expect(await readdir(join(t.base, "outdir"))).toEqual(["victim"]);
  });

  it("a client cannot create a symlink that points out", async () => {
    expect(await code(c.symlink("../../../../etc/passwd", "/up"))).toBe("PERMISSION_DENIED");
    expect(await code(c.symlink("../x", "/up"))).toBe("PERMISSION_DENIED");
    await c.mkdir("/d");
    expect(await code(c.symlink("../inside.txt", "/d/ok"))).toBe("OK");
    expect(new TextDecoder().decode(await c.readFile("/d/ok"))).toBe("in");
    // An absolute target is a path inside the jail, stored as such on the host.
    expect(await code(c.symlink("/etc/passwd", "/abs"))).toBe("OK");
    expect(await c.readlink("/abs")).toBe("/etc/passwd");
    await expect((await import("node:fs/promises")).readlink(join(t.root, "abs"))).resolves.toBe(join(t.root, "etc/passwd"));
    expect(await code(c.readFile("/abs"))).toBe("NO_SUCH_FILE");
  });

  it("a symlink swapped in for the final component is not followed on open (O_NOFOLLOW)", async () => {
    const err = await openFile(join(t.root, "leak"), { read: true }).catch((e) => e);
    expect(err).toBeInstanceOf(FsError);
    expect(err.code).toBe("ELOOP");
  });

  it("a descriptor that ended up outside the root is refused after open", async () => {
    const jail = await Jail.create(t.root);
    const outside = await openFile(secret, { read: true });
    try {
      await expect(jail.checkDescriptor(outside, join(t.root, "inside.txt"))).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    } finally {
      await outside.close();
    }
    const inside = await openFile(join(t.root, "inside.txt"), { read: true });
    await expect(jail.checkDescriptor(inside, join(t.root, "inside.txt"))).resolves.toBeUndefined();
    await inside.close();
    expect((await lstat(secret)).isFile()).toBe(true);
  });
});
