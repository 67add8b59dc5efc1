/** Properties of the jail's path arithmetic over arbitrary client paths. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Jail } from "../../src/sftp/server/jail.js";

const segment = fc.oneof(fc.constantFrom("..", ".", "", "a", "b", "etc", "..."), fc.string({ minLength: 1, maxLength: 4 }).filter((s) => !s.includes("/")));
const clientPath = fc.array(segment, { maxLength: 12 }).chain((parts) => fc.boolean().map((abs) => (abs ? "/" : "") + parts.join("/")));

describe("jail path arithmetic (properties)", () => {
  const jail = Object.create(Jail.prototype, { root: { value: "/srv/root" } }) as Jail;

  it("every client path normalises to an absolute path without '.' or '..' that maps inside the root", () => {
    fc.assert(fc.property(clientPath, fc.constantFrom("/", "/a", "/a/b"), (p, cwd) => {
      const v = jail.virtual(p, cwd);
      expect(v.startsWith("/")).toBe(true);
      expect(v.split("/").slice(1).every((s) => s !== "." && s !== ".." && (v === "/" || s !== ""))).toBe(true);
      expect(jail.contains(jail.hostOf(v))).toBe(true);
      expect(jail.toVirtual(jail.hostOf(v))).toBe(v);
      expect(jail.virtual(v)).toBe(v); // idempotent
    }));
  });

  it("a relative symlink target that does not escape stays inside after normalisation", () => {
    fc.assert(fc.property(clientPath, clientPath, (dir, target) => {
      const d = jail.virtual(dir);
      const rel = target.replace(/^\/+/, "");
      if (jail.escapes(d, rel)) return;
      // Lexically, no prefix of the walk climbs above the root, so chroot clamping changed nothing.
      const walked = [...d.split("/").filter(Boolean)];
      for (const s of rel.split("/")) {
        if (s === "" || s === ".") continue;
        if (s === "..") {
          expect(walked.length).toBeGreaterThan(0);
          walked.pop();
        } else walked.push(s);
      }
      expect(jail.virtual(rel, d)).toBe("/" + walked.join("/"));
    }));
  });

  it("host paths outside the root are never mapped back", () => {
    for (const h of ["/srv/root2", "/srv", "/", "/srv/rootx/a", "/etc/passwd"]) expect(jail.contains(h)).toBe(false);
    for (const h of ["/srv/root", "/srv/root/a"]) expect(jail.contains(h)).toBe(true);
  });
});
