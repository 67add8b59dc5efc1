/**
 * A small supply chain (issue #11 item 5): the published package carries only the build, the
 * README, the licence and package.json; it runs no install scripts; its runtime dependencies are
 * the four noble packages and nothing else; @ftrack/api and cli-progress stay optional peers that
 * only the accessor's callers and the CLI load (dynamically). The heavy test builds the package,
 * packs it, installs the tarball into a fresh project with --ignore-scripts --omit=dev and runs
 * the embedded server and the client from the installed copy.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..", "..");
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown> & {
  name: string;
  version: string;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports?: Record<string, string>;
};

const NOBLE = ["@noble/ciphers", "@noble/curves", "@noble/hashes", "@noble/post-quantum"];
const OPTIONAL_PEERS = ["@ftrack/api", "cli-progress"];
/** Scripts npm runs on install (prepare also runs for git and local-directory installs). */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare", "prepublish", "preprepare", "postprepare"];
/** What the tarball may hold besides dist/: npm adds package.json, README and LICENSE itself. */
const ROOT_FILES = ["package.json", "README.md", "LICENSE", "SECURITY.md"];

describe("package.json", () => {
  it("runs no scripts when installed", () => {
    const scripts = Object.keys(pkg.scripts ?? {});
    expect(scripts.filter((s) => INSTALL_SCRIPTS.includes(s))).toEqual([]);
    // Neither hooks of `npm pack`, which would run on the publisher's machine.
    expect(scripts.filter((s) => s === "prepack" || s === "postpack")).toEqual([]);
  });

  it("depends at run time on exactly the four noble packages, pinned", () => {
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(NOBLE);
    for (const [name, version] of Object.entries(pkg.dependencies ?? {})) {
      expect(version, `${name} is pinned to one version`).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(pkg.optionalDependencies).toBeUndefined();
    expect(pkg.bundleDependencies ?? pkg.bundledDependencies).toBeUndefined();
  });

  it("keeps @ftrack/api and cli-progress optional peers", () => {
    expect(Object.keys(pkg.peerDependencies ?? {}).sort()).toEqual(OPTIONAL_PEERS);
    for (const p of OPTIONAL_PEERS) expect(pkg.peerDependenciesMeta?.[p]?.optional, p).toBe(true);
  });

  it("whitelists what is published and ships a licence", () => {
    expect(pkg.files).toBeDefined();
    for (const entry of pkg.files ?? []) expect(entry === "dist" || entry.startsWith("dist/") || ROOT_FILES.includes(entry), entry).toBe(true);
    expect(existsSync(join(ROOT, "LICENSE"))).toBe(true);
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toContain(`${pkg.license} License`);
  });
});

/** Paths of every file under `dir`, relative to it, "/"-separated. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p).map((q) => `${name}/${q}`) : [name];
  });
}

/** Module specifiers of a compiled ES module: static imports/exports, and dynamic import()s. */
function specifiers(code: string): { static: string[]; dynamic: string[] } {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const stat = [...text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)].map((m) => (m[1] ?? m[2])!);
  const dyn = [...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  return { static: stat, dynamic: dyn };
}

/** The files reachable from `entry` through static imports (relative specifiers only). */
function staticClosure(dist: string, entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const s of specifiers(readFileSync(join(dist, file), "utf8")).static) {
      if (s.startsWith(".")) todo.push(relative(dist, resolve(dist, dirname(file), s)).split("\\").join("/"));
    }
  }
  return seen;
}

function checkImports(dist: string): void {
  const bad: string[] = [];
  const js = walk(dist).filter((f) => f.endsWith(".js"));
  expect(js.length).toBeGreaterThan(50);
  for (const file of js) {
    const { static: stat, dynamic } = specifiers(readFileSync(join(dist, file), "utf8"));
    for (const s of stat) {
      if (s.startsWith(".") || s.startsWith("node:") || NOBLE.some((n) => s.startsWith(`${n}/`))) continue;
      bad.push(`${file}: static import of ${s}`);
    }
    for (const s of dynamic) {
      if (s.startsWith(".") || OPTIONAL_PEERS.includes(s)) {
        // The optional peers are loaded on demand, and only by the CLI.
        if (OPTIONAL_PEERS.includes(s) && !file.startsWith("cli/")) bad.push(`${file}: loads ${s} outside the CLI`);
        continue;
      }
      bad.push(`${file}: dynamic import of ${s}`);
    }
  }
  expect(bad).toEqual([]);
  // The SFTP entry never reaches the accessor, the CLI or Node-only platform code for files.
  const sftp = [...staticClosure(dist, "sftp/index.js")];
  expect(sftp).toContain("ssh/transport/transport.js"); // the walk really follows imports
  expect(sftp.filter((f) => f.startsWith("accessor/") || f.startsWith("cli/"))).toEqual([]);
  // The root entry includes the accessor, but not the CLI.
  expect([...staticClosure(dist, "index.js")].filter((f) => f.startsWith("cli/"))).toEqual([]);
}

describe("npm pack --dry-run", () => {
  it("lists only dist/, package.json, README.md, LICENSE (and SECURITY.md)", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, maxBuffer: 64 << 20 });
    const [info] = JSON.parse(stdout) as { files: { path: string }[]; entryCount: number }[];
    const paths = info!.files.map((f) => f.path);
    const stray = paths.filter((p) => !p.startsWith("dist/") && !ROOT_FILES.includes(p));
    expect(stray).toEqual([]);
    for (const needed of ["package.json", "README.md", "LICENSE"]) expect(paths, needed).toContain(needed);
    // Whatever dist/ holds, nothing from the source tree, tests or tooling leaks in under it.
    expect(paths.filter((p) => /(^|\/)(test|scratch|bench|conformance|fuzz|demo|\.ci|node_modules)\//.test(p) || /\.test\.|\.tgz$/.test(p))).toEqual([]);
  }, 60_000);
});

describe("the packed package, installed", () => {
  const work = mkdtempSync(join(tmpdir(), "pure-sftp-pack-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("builds, packs, installs with --ignore-scripts --omit=dev, and runs with only noble underneath", async () => {
    // Build into a staging copy (the repository's dist/ is left alone). Type errors are the
    // typecheck script's business; --noCheck emits the same JavaScript and declarations.
    const stage = join(work, "stage");
    await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", join(stage, "dist"), "--noCheck"], { cwd: ROOT });
    for (const f of ROOT_FILES) if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(stage, f));
    checkImports(join(stage, "dist"));

    const packed = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { cwd: stage, maxBuffer: 64 << 20 });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const tarball = join(work, info!.filename);
    expect(info!.files.filter((f) => !f.path.startsWith("dist/") && !ROOT_FILES.includes(f.path))).toEqual([]);

    // A fresh project installs the tarball: from the local npm cache when it can, else the registry.
    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
    const install = (mode: string) =>
      run("npm", ["install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", mode, tarball], { cwd: app, maxBuffer: 64 << 20 });
    await install("--offline").catch(() => install("--prefer-offline"));

    const installed = readdirSync(join(app, "node_modules")).flatMap((n) =>
      n.startsWith("@") ? readdirSync(join(app, "node_modules", n)).map((m) => `${n}/${m}`) : [n]).filter((n) => !n.startsWith("."));
    expect(installed.sort()).toEqual([...NOBLE, pkg.name].sort());

    const ls = await run("npm", ["ls", "--omit=dev", "--all", "--json"], { cwd: app, maxBuffer: 64 << 20 });
    const names = new Set<string>();
    const visit = (deps: Record<string, { version?: string; dependencies?: Record<string, unknown> }> | undefined) => {
      for (const [name, d] of Object.entries(deps ?? {})) {
        if (d.version === undefined) continue; // an optional peer that is not installed
        names.add(name);
        visit(d.dependencies as never);
      }
    };
    visit(JSON.parse(ls.stdout).dependencies);
    expect([...names].sort()).toEqual([pkg.name, ...NOBLE].sort());
    const tree = await run("npm", ["ls", "--omit=dev", "--all"], { cwd: app });
    console.log(`npm ls --omit=dev --all of the installed tarball:\n${tree.stdout}`);

    // Real work from the installed copy: the embedded server and the client talk over TCP,
    // importing "pure-sftp/sftp" and "pure-sftp" (whose accessor must not need @ftrack/api).
    writeFileSync(join(app, "smoke.mjs"), `
      import { createSftpServer, connect } from "pure-sftp/sftp";
      import { generateEd25519Key, parsePrivateKey, SFTPAccessor } from "pure-sftp";
      import { mkdtempSync, rmSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      const root = mkdtempSync(join(tmpdir(), "smoke-"));
      const hostKey = generateEd25519Key("smoke");
      const server = await createSftpServer({ hostKeys: [hostKey], root,
        authenticate: (r) => r.method === "password" && r.username === "u" && r.password === "p" });
      const client = await connect({ host: "127.0.0.1", port: server.port, username: "u", password: "p",
        hostKeys: { fingerprints: server.hostKeyFingerprints, knownHostsFile: join(root, "none") }, sshConfig: false });
      await client.writeFile("hello.txt", "hello from the installed package");
      const text = new TextDecoder().decode(await client.readFile("hello.txt"));
      await client.close();
      await server.close();
      rmSync(root, { recursive: true, force: true });
      const loaded = typeof SFTPAccessor === "function" && typeof parsePrivateKey === "function";
      console.log(JSON.stringify({ text, loaded, kex: "ok" }));
    `);
    const smoke = await run(process.execPath, ["smoke.mjs"], { cwd: app, timeout: 60_000 });
    expect(JSON.parse(smoke.stdout)).toEqual({ text: "hello from the installed package", loaded: true, kex: "ok" });

    // @ftrack/api is absent, so the accessor entry loading at all proves it is not imported eagerly.
    expect(existsSync(join(app, "node_modules/@ftrack/api"))).toBe(false);
    const accessor = await run(process.execPath, ["--input-type=module", "-e", 'import("pure-sftp/accessor").then((m) => console.log(typeof m.SFTPAccessor))'], { cwd: app });
    expect(accessor.stdout.trim()).toBe("function");

    // The CLI runs from the install too (its ftrack commands report the missing peer when used).
    const help = await run(process.execPath, [join(app, "node_modules/pure-sftp/dist/cli/main.js"), "--help"], { cwd: app });
    expect(help.stdout).toContain("Usage: puresftp");
  }, 120_000);
});
