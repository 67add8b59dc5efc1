/**
 * The server side of the requests on an open handle (draft §6.3-§6.8): CLOSE, READ, WRITE,
 * FSTAT, FSETSTAT, READDIR. READ lengths are capped and READDIR batches bounded, so one request
 * never costs more than a packet's worth of memory.
 */
import * as fs from "../../platform/server-fs.js";
import { concat } from "../../ssh/wire/writer.js";
import { StatusCode } from "../constants.js";
import type * as h from "../packets/handle.js";
import { DATA_HEADER_LENGTH, encodeName, encodeStatus, finishDataPacket, type NameEntry } from "../packets/response.js";
import { type ServerContext, attrsReply, ok, statusFor } from "./context.js";
import { attrsOf, longname } from "./listing.js";
import { applyAttrs } from "./set-attrs.js";

/** Stop adding READDIR entries past this many bytes of reply. */
const READDIR_MAX_BYTES = 64 * 1024;

function eof(id: number): Uint8Array {
  return encodeStatus(id, { code: StatusCode.EOF, message: "End of file", lang: "en" });
}

export async function close(ctx: ServerContext, r: h.ClosePacket): Promise<Uint8Array> {
  await ctx.handles.close(r.handle);
  return ok(r.id);
}

/**
 * The file is read straight into the DATA packet: no buffer in between, no copy. The packet's
 * buffer is the session's (ReplyBuffers), which takes it back once the channel has the reply;
 * a failed or empty read gives it back at once.
 */
export async function read(ctx: ServerContext, r: h.ReadPacket): Promise<Uint8Array> {
  const { file } = ctx.handles.file(r.handle);
  const want = Math.min(r.length, ctx.limits.maxReadLength);
  if (want === 0) return eof(r.id);
  const packet = ctx.buffers.data(want);
  let n: number;
  try {
    n = await file.read(packet.subarray(DATA_HEADER_LENGTH), r.offset);
  } catch (e) {
    ctx.buffers.give(packet);
    throw e;
  }
  if (n > 0) return finishDataPacket(packet, r.id, n);
  ctx.buffers.give(packet);
  return eof(r.id);
}

/**
 * A run of READs of one file at consecutive offsets, none longer than the READ cap (the
 * session's joinRun), answered with one file read: their DATA replies back to back in one
 * buffer, in the order asked. Where the file read comes up short (end of file), the requests
 * from there on are served one by one, exactly as each alone would be.
 */
export async function readRun(ctx: ServerContext, reads: readonly h.ReadPacket[]): Promise<Uint8Array> {
  let total = 0;
  for (const r of reads) total += r.length;
  const data = ctx.buffers.take(total);
  let n: number;
  try {
    n = await ctx.handles.file(reads[0]!.handle).file.read(data, reads[0]!.offset);
  } catch {
    n = 0; // each request below meets the failure again and answers it
  }
  const parts: Uint8Array[] = [];
  let at = 0;
  let i = 0;
  const full = ctx.buffers.take(reads.length * DATA_HEADER_LENGTH + Math.min(n, total));
  let w = 0;
  for (; i < reads.length && at + reads[i]!.length <= n; i++) {
    const r = reads[i]!;
    full.set(data.subarray(at, at + r.length), w + DATA_HEADER_LENGTH);
    finishDataPacket(full.subarray(w), r.id, r.length);
    w += DATA_HEADER_LENGTH + r.length;
    at += r.length;
  }
  ctx.buffers.give(data);
  parts.push(full.subarray(0, w));
  for (; i < reads.length; i++) parts.push(await read(ctx, reads[i]!).catch((e: unknown) => statusFor(reads[i]!.id, e)));
  if (parts.length === 1) return parts[0]!; // the session gives `full` back once the channel has it
  const reply = concat(...parts);
  for (const p of parts) ctx.buffers.give(p);
  return reply;
}

export async function write(ctx: ServerContext, r: h.WritePacket): Promise<Uint8Array> {
  await ctx.handles.file(r.handle).file.write(r.data, r.offset);
  return ok(r.id);
}

/**
 * A run of WRITEs of one file at consecutive offsets (the session's joinRun), written with one
 * file write and answered with their STATUS replies back to back. If that write fails, each is
 * written again on its own (writing the same bytes at the same offset twice is harmless), so
 * each request gets the answer it would have got alone.
 */
export async function writeRun(ctx: ServerContext, writes: readonly h.WritePacket[]): Promise<Uint8Array> {
  try {
    await ctx.handles.file(writes[0]!.handle).file.write(concat(...writes.map((w) => w.data)), writes[0]!.offset);
    return concat(...writes.map((w) => ok(w.id)));
  } catch {
    const replies: Uint8Array[] = [];
    for (const w of writes) replies.push(await write(ctx, w).catch((e: unknown) => statusFor(w.id, e)));
    return concat(...replies);
  }
}

export async function fstat(ctx: ServerContext, r: h.FstatPacket): Promise<Uint8Array> {
  const handle = ctx.handles.get(r.handle);
  return attrsReply(r.id, attrsOf(await (handle.kind === "file" ? handle.file : handle.fd).stat()));
}

export async function fsetstat(ctx: ServerContext, r: h.FsetstatPacket): Promise<Uint8Array> {
  const handle = ctx.handles.get(r.handle);
  await applyAttrs(handle.kind === "file" ? handle.file : handle.fd, r.attrs);
  return ok(r.id);
}

/** Up to `readdirBatch` entries (and about 64 KiB), each with lstat attributes and a longname. */
export async function readdir(ctx: ServerContext, r: h.ReaddirPacket): Promise<Uint8Array> {
  const d = ctx.handles.dir(r.handle);
  const entries: NameEntry[] = [];
  let bytes = 0;
  while (entries.length < ctx.limits.readdirBatch && bytes < READDIR_MAX_BYTES) {
    const name = d.held ?? (await d.dir.read());
    d.held = undefined;
    if (name === null) break;
    let st: fs.FsStat;
    try {
      st = await fs.lstat(d.host === "/" ? `/${name}` : `${d.host}/${name}`);
    } catch {
      continue; // removed since it was listed
    }
    const entry: NameEntry = { filename: name, longname: longname(name, st), attrs: attrsOf(st) };
    bytes += entry.filename.length * 3 + entry.longname.length * 3 + 64;
    entries.push(entry);
  }
  return entries.length === 0 ? eof(r.id) : encodeName(r.id, { entries });
}
