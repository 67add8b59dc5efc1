/**
 * The file commands: ls, get, put, rm, mkdir, rmdir, mv, stat, df, ln. Each connects once, does
 * its work over SFTP and returns a result for output.ts. Remote operands are `[user@]host:path`;
 * all remote operands of one command must name the same server.
 */
import { stat as statLocal } from "node:fs/promises";
import { basename, join } from "node:path";
import { SftpError } from "../errors.js";
import type { SftpClient } from "../sftp/client.js";
import { baseName, joinPath } from "../sftp/paths.js";
import { MAX_CONNECTIONS } from "../sftp/lane-connections.js";
import { MAX_STREAMS } from "../sftp/segments.js";
import { emptyPlan, planDownload, planUpload, runPlan, type DirPlan, type PlanRunOptions } from "../sftp/transfers-dir.js";
import { expectOperands, type Args } from "./args.js";
import { sessionIO, type CommandContext, type CommandDef } from "./command.js";
import { CliError, EXIT, UsageError } from "./errors.js";
import { dfJson, entryJson, formatDf, formatLong, formatStat, type EntryJson } from "./output.js";
import { createProgress } from "./progress.js";
import { connectionSettings, openSftp, parseOperand, sameServer, type RemotePath } from "./target.js";

// --- helpers ---------------------------------------------------------------------------------

/** Parses operands that must all be remote and on one server. */
function remotes(operands: readonly string[], command: string): RemotePath[] {
  const out = operands.map((o) => {
    const op = parseOperand(o);
    if (op.kind !== "remote") throw new UsageError(`${command}: ${JSON.stringify(o)} is not a remote path; write [user@]host:path`, command);
    return op.remote;
  });
  for (const r of out) if (!sameServer(r, out[0]!)) throw new UsageError(`${command}: all remote paths must be on the same server`, command);
  return out;
}

/** Connects to `remote`'s server, runs `fn`, always closes. */
async function withClient<T>(ctx: CommandContext, remote: RemotePath, command: string, fn: (c: SftpClient) => Promise<T>): Promise<T> {
  const client = await openSftp(remote, connectionSettings(ctx.args, command), sessionIO(ctx));
  if (ctx.verbose) ctx.stderr.write(describeConnection(client));
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => {});
  }
}

/** `-v`: who we talk to and what was negotiated, as lines for stderr. */
export function describeConnection(c: SftpClient): string {
  const a = c.ssh.algorithms;
  const k = c.ssh.hostKey;
  const mac = (m: string) => (m && m !== "none" ? m : "implicit (AEAD)");
  const crypto = c.ssh.cryptoInfo;
  return [
    `debug: connected as ${c.ssh.username} to ${c.ssh.serverVersion}`,
    `debug: kex ${a.kex}, host key ${k.type} ${k.fingerprint}`,
    `debug: client->server cipher ${a.cipherClientToServer}, mac ${mac(a.macClientToServer)}`,
    `debug: server->client cipher ${a.cipherServerToClient}, mac ${mac(a.macServerToClient)}`,
    `debug: crypto ${crypto.backend}: client->server ${crypto.clientToServer}; server->client ${crypto.serverToClient}`,
    "",
  ].join("\n");
}

/** The path to send: "" is the login directory, "~" and "~/…" are expanded by the server. */
async function resolvePath(c: SftpClient, path: string): Promise<string> {
  if (path === "") return ".";
  if (path === "~" || path.startsWith("~")) return c.expandPath(path);
  return path;
}

async function remoteIsDir(c: SftpClient, path: string): Promise<boolean> {
  try {
    return (await c.stat(path)).isDirectory();
  } catch (e) {
    if (e instanceof SftpError && e.code === "NO_SUCH_FILE") return false;
    throw e;
  }
}

async function localIsDir(path: string): Promise<boolean> {
  try {
    return (await statLocal(path)).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/** The name a remote path has ("." and "" resolved through the server). */
async function remoteName(c: SftpClient, path: string): Promise<string> {
  const name = baseName(path.replace(/\/+$/, ""));
  if (name && name !== "." && name !== ".." && name !== "~") return name;
  return baseName(await c.realpath(path)) || "root";
}

function mode(text: string, command: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) throw new UsageError(`${command}: the mode must be octal, like 755; got ${JSON.stringify(text)}`, command);
  return parseInt(text, 8);
}

function notDirectoryError(path: string): CliError {
  return new CliError("NOT_A_DIRECTORY", `${path} is not a directory`, EXIT.GENERIC);
}

// --- transfers -------------------------------------------------------------------------------

/**
 * Runs the plan through the library's directory transfer (the same planner and scheduler as
 * uploadDir/downloadDir) with the progress display: a bar per file in flight and the total.
 */
async function runWithProgress(ctx: CommandContext, c: SftpClient, plan: DirPlan, direction: "up" | "down", options: PlanRunOptions): Promise<number> {
  const progress = await createProgress({
    stream: ctx.stderr,
    enabled: !ctx.json && !ctx.quiet,
    totalBytes: plan.files.reduce((n, j) => n + j.size, 0),
    totalFiles: plan.files.length,
  });
  try {
    const result = await runPlan(c, plan, direction, {
      ...options,
      signal: ctx.signal,
      onFile: (f) => {
        const bar = progress.start(basename(f.from), f.size);
        return (n) => (n === undefined ? bar.done() : bar.update(n));
      },
    });
    return result.bytes;
  } catch (e) {
    if (ctx.signal.aborted) throw new CliError("INTERRUPTED", "interrupted", EXIT.INTERRUPTED, { cause: e });
    throw e;
  } finally {
    progress.stop();
  }
}

const transferResult = (plan: DirPlan, bytes: number) => ({
  json: { files: plan.files.map((f) => ({ from: f.from, to: f.to, size: f.size })), directories: plan.dirs, bytes, skipped: plan.skipped },
  text: plan.skipped.length ? plan.skipped.map((s) => `skipped (not a regular file or directory): ${s}`).join("\n") : "",
});

// --- commands --------------------------------------------------------------------------------

const RECURSIVE = { name: "recursive", short: "r", help: "copy directories recursively" } as const;
const RESUME = { name: "resume", long: "resume", help: "continue partial transfers where they stopped" } as const;
const STREAMS = { name: "streams", short: "n", long: "streams", value: true, valueName: "N", help: "SFTP sessions for a directory's files and per large file: 1-16, or auto (default)" } as const;

const CONNECTIONS = { name: "connections", long: "connections", value: true, valueName: "N", help: `SSH connections a large file's streams are spread over: 1-${MAX_CONNECTIONS} (default 1)` } as const;

/** `--connections`: a whole number from 1 to MAX_CONNECTIONS (default 1). */
function connectionsOption(ctx: CommandContext, command: string): number {
  const v = ctx.args.value("connections") ?? "1";
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_CONNECTIONS) throw new UsageError(`${command}: --connections takes a number from 1 to ${MAX_CONNECTIONS}, not ${JSON.stringify(v)}`, command);
  return n;
}

/** `-n/--streams`: "auto" (the default) or a whole number of streams from 1 to 16. */
function streamsOption(ctx: CommandContext, command: string): number | "auto" {
  const v = ctx.args.value("streams") ?? "auto";
  if (v === "auto") return v;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_STREAMS) throw new UsageError(`${command}: --streams takes auto or a number from 1 to ${MAX_STREAMS}, not ${JSON.stringify(v)}`, command);
  return n;
}

const ls: CommandDef = {
  name: "ls",
  summary: "list a directory",
  usage: ["ls [-l] [-a] [-h] [user@]host:[path]"],
  description: "Lists the directory (the login directory when the path is empty), or the file itself.",
  connects: true,
  options: [
    { name: "long", short: "l", help: "long format: mode, owner, group, size, time" },
    { name: "all", short: "a", help: "include names starting with ." },
    { name: "human", short: "h", help: "sizes as 1.5K, 23M, … (with -l)" },
  ],
  async run(ctx) {
    const [operand] = expectOperands(ctx.args, 1, 1, "ls", ls.usage[0]!);
    const [r] = remotes([operand!], "ls");
    return withClient(ctx, r!, "ls", async (c) => {
      const path = await resolvePath(c, r!.path);
      const st = await c.stat(path);
      let entries: EntryJson[];
      if (st.isDirectory()) {
        const all = (await c.list(path)).filter((e) => ctx.args.flag("all") || !e.name.startsWith("."));
        all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        entries = await Promise.all(all.map(async (e) => {
          const target = e.attrs.isSymbolicLink() ? await c.readlink(joinPath(path, e.name)).catch(() => undefined) : undefined;
          return entryJson(e.name, e.attrs, target === undefined ? { longname: e.longname } : { longname: e.longname, target });
        }));
      } else {
        const lst = await c.lstat(path);
        const target = lst.isSymbolicLink() ? await c.readlink(path).catch(() => undefined) : undefined;
        entries = [entryJson(r!.path || path, lst, target === undefined ? {} : { target })];
      }
      const text = ctx.args.flag("long") ? formatLong(entries, { human: ctx.args.flag("human") }) : entries.map((e) => e.name).join("\n");
      return { json: { path: r!.path || ".", entries }, text };
    });
  },
};

const get: CommandDef = {
  name: "get",
  summary: "download files (-r: directories)",
  usage: ["get [-r] [--resume] [-n N] [--connections N] [user@]host:path… [local]"],
  description:
    "Downloads to `local` (default: the current directory). When `local` is an existing directory, or\n" +
    "several remote paths are given, the files go inside it under their own names.",
  connects: true,
  options: [RECURSIVE, RESUME, STREAMS, CONNECTIONS],
  async run(ctx) {
    const ops = expectOperands(ctx.args, 1, Infinity, "get", get.usage[0]!);
    const streams = streamsOption(ctx, "get");
    const connections = connectionsOption(ctx, "get");
    const lastIsLocal = ops.length > 1 && parseOperand(ops[ops.length - 1]!).kind === "local";
    if (ops.length > 1 && !lastIsLocal) throw new UsageError("get: the last operand must be a local path", "get");
    const sources = remotes(lastIsLocal ? ops.slice(0, -1) : ops, "get");
    const local = lastIsLocal ? ops[ops.length - 1]! : ".";
    const recursive = ctx.args.flag("recursive");
    return withClient(ctx, sources[0]!, "get", async (c) => {
      const intoDir = await localIsDir(local);
      if (sources.length > 1 && !intoDir) throw notDirectoryError(local);
      const plan = emptyPlan();
      for (const s of sources) {
        const from = await resolvePath(c, s.path);
        const st = await c.stat(from);
        const to = intoDir ? join(local, await remoteName(c, from)) : local;
        if (st.isDirectory()) {
          if (!recursive) throw new CliError("IS_A_DIRECTORY", `${s.path || from} is a directory (use get -r)`, EXIT.GENERIC);
          await planDownload(c, from, to, plan);
        } else if (st.isFile()) {
          plan.files.push({ from, to, size: st.size ?? 0 });
        } else {
          plan.skipped.push(from);
        }
      }
      return transferResult(plan, await runWithProgress(ctx, c, plan, "down", { resume: ctx.args.flag("resume"), streams, connections }));
    });
  },
};

const put: CommandDef = {
  name: "put",
  summary: "upload files (-r: directories)",
  usage: ["put [-r] [--resume] [-n N] [--connections N] local… [user@]host:[path]"],
  description:
    "Uploads to the remote path (default: the login directory). When it is an existing directory, or\n" +
    "several local paths are given, the files go inside it under their own names. Files are written\n" +
    "under a temporary name and renamed into place when complete.",
  connects: true,
  options: [RECURSIVE, RESUME, STREAMS, CONNECTIONS],
  async run(ctx) {
    const ops = expectOperands(ctx.args, 2, Infinity, "put", put.usage[0]!);
    const streams = streamsOption(ctx, "put");
    const connections = connectionsOption(ctx, "put");
    const [dest] = remotes([ops[ops.length - 1]!], "put");
    const sources = ops.slice(0, -1);
    for (const s of sources) if (parseOperand(s).kind !== "local") throw new UsageError(`put: ${JSON.stringify(s)} is remote; only the last operand may be`, "put");
    const recursive = ctx.args.flag("recursive");
    // Check the local side before connecting.
    const kinds = await Promise.all(sources.map(async (s) => {
      const st = await statLocal(s);
      if (st.isDirectory() && !recursive) throw new CliError("IS_A_DIRECTORY", `${s} is a directory (use put -r)`, EXIT.GENERIC);
      return { path: s, dir: st.isDirectory(), size: st.size, file: st.isFile() };
    }));
    return withClient(ctx, dest!, "put", async (c) => {
      const target = await resolvePath(c, dest!.path);
      const intoDir = await remoteIsDir(c, target);
      if (sources.length > 1 && !intoDir) throw notDirectoryError(dest!.path || target);
      const plan = emptyPlan();
      for (const k of kinds) {
        const to = intoDir ? joinPath(target, basename(k.path.replace(/\/+$/, "")) || "root") : target;
        if (k.dir) await planUpload(k.path, to, plan);
        else if (k.file) plan.files.push({ from: k.path, to, size: k.size });
        else plan.skipped.push(k.path);
      }
      return transferResult(plan, await runWithProgress(ctx, c, plan, "up", { resume: ctx.args.flag("resume"), streams, connections }));
    });
  },
};

const rm: CommandDef = {
  name: "rm",
  summary: "remove files (-r: directories too)",
  usage: ["rm [-r] [-f] [user@]host:path…"],
  connects: true,
  options: [
    { name: "recursive", short: "r", help: "remove directories and their contents" },
    { name: "force", short: "f", help: "ignore paths that do not exist" },
  ],
  async run(ctx) {
    const rs = remotes(expectOperands(ctx.args, 1, Infinity, "rm", rm.usage[0]!), "rm");
    return withClient(ctx, rs[0]!, "rm", async (c) => {
      const removed: string[] = [];
      for (const r of rs) {
        const path = await resolvePath(c, r.path);
        try {
          const st = await c.lstat(path);
          if (st.isDirectory()) {
            if (!ctx.args.flag("recursive")) throw new CliError("IS_A_DIRECTORY", `${r.path} is a directory (use rm -r or rmdir)`, EXIT.GENERIC);
            await c.rmdir(path, { recursive: true });
          } else {
            await c.remove(path);
          }
          removed.push(r.path);
        } catch (e) {
          if (ctx.args.flag("force") && e instanceof SftpError && e.code === "NO_SUCH_FILE") continue;
          throw e;
        }
      }
      return { json: { removed }, text: "" };
    });
  },
};

const mkdirCmd: CommandDef = {
  name: "mkdir",
  summary: "create directories",
  usage: ["mkdir [-p] [-m MODE] [user@]host:path…"],
  description: "Here -p means parents, as in mkdir(1): give the port with -P PORT or -o Port=PORT.",
  connects: true,
  options: [
    { name: "parents", short: "p", help: "create parents as needed; no error if it exists" },
    { name: "mode", short: "m", value: true, valueName: "MODE", help: "permissions, octal (e.g. 750)" },
  ],
  async run(ctx) {
    const rs = remotes(expectOperands(ctx.args, 1, Infinity, "mkdir", mkdirCmd.usage[0]!), "mkdir");
    const m = ctx.args.value("mode");
    const permissions = m === undefined ? undefined : mode(m, "mkdir");
    return withClient(ctx, rs[0]!, "mkdir", async (c) => {
      const created: string[] = [];
      for (const r of rs) {
        const path = await resolvePath(c, r.path);
        await c.mkdir(path, { recursive: ctx.args.flag("parents"), ...(permissions === undefined ? {} : { mode: permissions }) });
        created.push(r.path);
      }
      return { json: { created }, text: "" };
    });
  },
};

const rmdir: CommandDef = {
  name: "rmdir",
  summary: "remove empty directories",
  usage: ["rmdir [user@]host:path…"],
  connects: true,
  options: [],
  async run(ctx) {
    const rs = remotes(expectOperands(ctx.args, 1, Infinity, "rmdir", rmdir.usage[0]!), "rmdir");
    return withClient(ctx, rs[0]!, "rmdir", async (c) => {
      const removed: string[] = [];
      for (const r of rs) {
        await c.rmdir(await resolvePath(c, r.path));
        removed.push(r.path);
      }
      return { json: { removed }, text: "" };
    });
  },
};

/** Two operands on one server: the first (or either) written host:path, the other may be a bare path. */
function pairOnServer(args: Args, command: string, usage: string): [RemotePath, string, string] {
  const [a, b] = expectOperands(args, 2, 2, command, usage);
  const pa = parseOperand(a!);
  const pb = parseOperand(b!);
  const server = pa.kind === "remote" ? pa.remote : pb.kind === "remote" ? pb.remote : undefined;
  if (!server) throw new UsageError(`${command}: name the server: write [user@]host:path for an operand`, command);
  if (pa.kind === "remote" && pb.kind === "remote" && !sameServer(pa.remote, pb.remote)) throw new UsageError(`${command}: both paths must be on the same server`, command);
  const path = (o: typeof pa) => (o.kind === "remote" ? o.remote.path : o.path);
  return [server, path(pa), path(pb)];
}

const mv: CommandDef = {
  name: "mv",
  summary: "rename or move a file on the server",
  usage: ["mv [-f] [user@]host:from to"],
  description: "`to` is a path on the same server (host: may be repeated). Into an existing directory, the file keeps its name.",
  connects: true,
  options: [{ name: "force", short: "f", help: "replace an existing target (posix-rename)" }],
  async run(ctx) {
    const [server, fromText, toText] = pairOnServer(ctx.args, "mv", mv.usage[0]!);
    return withClient(ctx, server, "mv", async (c) => {
      const from = await resolvePath(c, fromText);
      let to = await resolvePath(c, toText);
      if (await remoteIsDir(c, to)) to = joinPath(to, await remoteName(c, from));
      await c.rename(from, to, { overwrite: ctx.args.flag("force") });
      return { json: { from, to }, text: "" };
    });
  },
};

const stat: CommandDef = {
  name: "stat",
  summary: "show a file's attributes",
  usage: ["stat [-L] [user@]host:path…"],
  description: "With --json: one object, or an array when several paths are given.",
  connects: true,
  options: [{ name: "follow", short: "L", help: "follow symbolic links" }],
  async run(ctx) {
    const rs = remotes(expectOperands(ctx.args, 1, Infinity, "stat", stat.usage[0]!), "stat");
    return withClient(ctx, rs[0]!, "stat", async (c) => {
      const out: (EntryJson & { path: string })[] = [];
      for (const r of rs) {
        const path = await resolvePath(c, r.path);
        const st = ctx.args.flag("follow") ? await c.stat(path) : await c.lstat(path);
        const target = st.isSymbolicLink() ? await c.readlink(path).catch(() => undefined) : undefined;
        const e = entryJson(baseName(path), st, target === undefined ? {} : { target });
        out.push({ path: r.path || path, ...e });
      }
      return { json: out.length === 1 ? out[0] : out, text: out.map((e) => formatStat(e.path, e)).join("\n") };
    });
  },
};

const df: CommandDef = {
  name: "df",
  summary: "show free space (statvfs@openssh.com)",
  usage: ["df [-h] [--inodes] [user@]host:[path]"],
  connects: true,
  options: [
    { name: "human", short: "h", help: "sizes as 1.5K, 23M, …" },
    { name: "inodes", long: "inodes", help: "inodes instead of blocks" },
  ],
  async run(ctx) {
    const [operand] = expectOperands(ctx.args, 1, 1, "df", df.usage[0]!);
    const [r] = remotes([operand!], "df");
    return withClient(ctx, r!, "df", async (c) => {
      const path = await resolvePath(c, r!.path);
      const d = dfJson(r!.path || path, await c.statvfs(path));
      return { json: d, text: formatDf(d, { human: ctx.args.flag("human"), inodes: ctx.args.flag("inodes") }) };
    });
  },
};

const ln: CommandDef = {
  name: "ln",
  summary: "create a link (-s: symbolic)",
  usage: ["ln -s target [user@]host:link", "ln [user@]host:existing link"],
  description:
    "With -s, `target` is stored in the link as written (it may be relative or not exist). Without -s,\n" +
    "a hard link (hardlink@openssh.com). Write host: on either operand.",
  connects: true,
  options: [{ name: "symbolic", short: "s", help: "symbolic link" }],
  async run(ctx) {
    const [server, target, link] = pairOnServer(ctx.args, "ln", ln.usage[0]!);
    return withClient(ctx, server, "ln", async (c) => {
      const linkPath = await resolvePath(c, link);
      if (ctx.args.flag("symbolic")) await c.symlink(target, linkPath);
      else await c.hardlink(await resolvePath(c, target), linkPath);
      return { json: { target, link: linkPath, symbolic: ctx.args.flag("symbolic") }, text: "" };
    });
  },
};

/** The file commands, in help order. */
export const FILE_COMMANDS: CommandDef[] = [ls, get, put, rm, mkdirCmd, rmdir, mv, stat, df, ln];
