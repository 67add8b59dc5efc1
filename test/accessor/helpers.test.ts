import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AccessorError } from "../../src/accessor/accessor.js";
import { fileExtension } from "../../src/accessor/components.js";
import { childId, containerId, idSegments, normaliseId, tempIdFor } from "../../src/accessor/resource-id.js";
import { formatFrame, memberMatcher, memberPath, parseRanges, parseSequencePath, sequenceExpression, sequenceTemplate } from "../../src/accessor/sequence.js";
import { SFTPAccessor } from "../../src/accessor/sftp-accessor.js";
import { sftpOptionsFromEnv } from "../../src/accessor/sftp-env.js";

describe("resource identifiers", () => {
  it("normalise, and never contain .. or empty segments", () => {
    expect(normaliseId("a//b/./c/")).toBe("a/b/c");
    expect(normaliseId("")).toBe("");
    expect(normaliseId("./")).toBe("");
    expect(childId("", "x")).toBe("x");
    expect(childId("a/b", "c")).toBe("a/b/c");
    expect(containerId("a/b/c")).toBe("a/b");
    expect(tempIdFor("a/b.exr")).toMatch(/^a\/\.b\.exr\.[0-9a-f]{12}\.part$/);
    fc.assert(fc.property(fc.array(fc.constantFrom("a", "b", ".", "..", "", "x y", "é"), { maxLength: 8 }), (parts) => {
      const id = parts.join("/");
      let segs: string[];
      try {
        segs = idSegments(id);
      } catch (e) {
        expect(e).toBeInstanceOf(AccessorError);
        expect((e as AccessorError).code).toBe("ACCESSOR_FILESYSTEM_PATH");
        expect(parts.includes("..") || id.startsWith("/")).toBe(true);
        return;
      }
      expect(segs.every((s) => s !== "" && s !== "." && s !== "..")).toBe(true);
      expect(normaliseId(normaliseId(id))).toBe(normaliseId(id));
    }));
  });
});

describe("sequences", () => {
  it("parses clique notation as ftrack's create_component accepts it", () => {
    expect(parseSequencePath("/shots/img.%04d.exr [1-3, 7, 9-10]")).toEqual({ head: "/shots/img.", padding: 4, tail: ".exr", indexes: [1, 2, 3, 7, 9, 10] });
    expect(parseSequencePath("/tmp/foo/%d.jpg [1-2]")).toEqual({ head: "/tmp/foo/", padding: 0, tail: ".jpg", indexes: [1, 2] });
    expect(parseSequencePath("/shots/plate.mov")).toBeUndefined();
    expect(parseSequencePath("/shots/img.%04d.exr")).toBeUndefined();
    expect(parseSequencePath("/a/%04d_%04d.exr [1]")).toBeUndefined();
    expect(parseRanges("5-1")).toBeUndefined();
    expect(parseRanges("x")).toBeUndefined();
  });

  it("formats members and expressions", () => {
    expect(sequenceExpression(4)).toBe("%04d");
    expect(sequenceExpression(0)).toBe("%d");
    expect(sequenceExpression(null)).toBe("%d");
    expect(formatFrame(7, 4)).toBe("0007");
    expect(formatFrame(12345, 4)).toBe("12345");
    expect(formatFrame(-3, 3)).toBe("-003");
    expect(memberPath("/s/img.%04d.exr", 7)).toBe("/s/img.0007.exr");
    expect(memberPath("/s/img.%04d.exr", "0042")).toBe("/s/img.0042.exr");
    expect(sequenceTemplate({ head: "a.", padding: 3, tail: ".dpx" })).toBe("a.%03d.dpx");
  });

  it("matches member file names", () => {
    const m = memberMatcher("img.%04d.exr")!;
    expect(["img.0001.exr", "img.12345.exr", "img.9999.exr"].every((n) => m.test(n))).toBe(true);
    expect(["img.001.exr", "img.01234.exr", "img.0001.exr.part", "xmg.0001.exr"].some((n) => m.test(n))).toBe(false);
    expect(memberMatcher("img.%d.exr")!.test("img.7.exr")).toBe(true);
    expect(memberMatcher("img.exr")).toBeUndefined();
  });

  it("fileExtension is os.path.splitext", () => {
    expect(["/a/b.exr", "/a/b.tar.gz", "/a/.bashrc", "/a/b", "/a.d/b", "/a/b.", "/a/..x"].map(fileExtension)).toEqual([".exr", ".gz", "", "", "", ".", ""]);
  });
});

describe("SFTPAccessor configuration", () => {
  const base = { FTRACK_SFTP_ACCESSOR_HOSTNAME: "sftp.studio.example" };

  it("reads the Python package's variables and strict host keys by default", () => {
    expect(sftpOptionsFromEnv({ ...base, FTRACK_SFTP_ACCESSOR_PORT: "2222", FTRACK_SFTP_ACCESSOR_USERNAME: "ftrack", FTRACK_SFTP_ACCESSOR_PASSWORD: "pw", FTRACK_SFTP_ACCESSOR_FOLDER: "ftrack" }))
      .toEqual({ host: "sftp.studio.example", port: 2222, username: "ftrack", password: "pw", folder: "ftrack", hostKeys: { policy: "strict" } });
  });

  it("pins fingerprints, known_hosts, policy, agent and key text", () => {
    const fp = "SHA256:" + "A".repeat(43);
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
    expect(sftpOptionsFromEnv({
      ...base, FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT: `${fp}, ${fp}=`, FTRACK_SFTP_ACCESSOR_KNOWN_HOSTS: "/etc/ssh/ssh_known_hosts",
      FTRACK_SFTP_ACCESSOR_HOST_KEY_POLICY: "accept-new", FTRACK_SFTP_ACCESSOR_AGENT: "1", FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: key, FTRACK_SFTP_ACCESSOR_PASSPHRASE: "pp",
    })).toEqual({
      host: "sftp.studio.example", privateKey: key, passphrase: "pp", agent: true,
      hostKeys: { policy: "accept-new", knownHostsFile: "/etc/ssh/ssh_known_hosts", fingerprints: [fp, fp] },
    });
    expect(sftpOptionsFromEnv({ ...base, FTRACK_SFTP_ACCESSOR_AGENT: "/run/agent.sock" }).agent).toBe("/run/agent.sock");
    expect(sftpOptionsFromEnv({ ...base, FTRACK_SFTP_ACCESSOR_AGENT: "0" }).agent).toBeUndefined();
  });

  it("refuses bad values with ACCESSOR_CONFIGURATION naming the variable", () => {
    const bad = (env: Record<string, string>) => {
      try {
        sftpOptionsFromEnv({ ...base, ...env });
      } catch (e) {
        expect((e as AccessorError).code).toBe("ACCESSOR_CONFIGURATION");
        return (e as Error).message;
      }
      return "no error";
    };
    expect(bad({ FTRACK_SFTP_ACCESSOR_HOSTNAME: "" })).toMatch(/HOSTNAME/);
    expect(bad({ FTRACK_SFTP_ACCESSOR_PORT: "70000" })).toMatch(/PORT/);
    expect(bad({ FTRACK_SFTP_ACCESSOR_HOST_KEY_POLICY: "insecure-accept-any" })).toMatch(/HOST_KEY_POLICY/);
    expect(bad({ FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT: "MD5:aa:bb" })).toMatch(/HOST_KEY_FINGERPRINT/);
    expect(bad({ FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: "/no/such/key" })).toMatch(/PRIVATE_KEY/);
  });

  it("builds URLs without secrets and does not connect until used", async () => {
    const a = new SFTPAccessor({ host: "::1", username: "j doe", password: "secret", folder: "/srv/ftrack/" });
    expect(a.connected).toBe(false);
    expect(await a.getUrl("p/a b.exr")).toBe("sftp://j%20doe@[::1]:22/srv/ftrack/p/a%20b.exr");
    expect(await new SFTPAccessor({ host: "h", username: "u", port: 2022 }).getUrl("x")).toBe("sftp://u@h:2022/~/x");
    expect(await a.getContainer("p/a")).toBe("p");
    await expect(a.exists("../etc")).rejects.toMatchObject({ code: "ACCESSOR_FILESYSTEM_PATH" });
    expect(a.connected).toBe(false);
    expect(() => new SFTPAccessor({ host: "" })).toThrow(AccessorError);
    expect(() => new SFTPAccessor({ host: "h", port: 0 })).toThrow(/port/);
  });

  it("connection failures are typed and the next call tries again", async () => {
    let attempts = 0;
    const a = new SFTPAccessor({ host: "h", username: "u", connect: async () => { attempts++; throw new Error("ECONNREFUSED"); } });
    await expect(a.list("")).rejects.toMatchObject({ code: "ACCESSOR_CONNECTION_FAILED", message: expect.stringMatching(/ECONNREFUSED/) });
    await expect(a.list("")).rejects.toMatchObject({ code: "ACCESSOR_CONNECTION_FAILED" });
    expect(attempts).toBe(2);
  });
});
