/**
 * ftrack's storage, faked: startFtrackServer (the JSON API over FtrackMemory) plus what the
 * ftrack.server location uses — the `get_upload_metadata` and `complete_multipart_upload`
 * actions, signed PUT URLs for single and multipart uploads (answering S3-style quoted MD5
 * ETags), `/component/get` (optionally redirecting to a storage URL, honouring Range) and
 * `/component/remove`. It checks what a real storage would refuse: the API key, the signed
 * headers, the MD5 checksum, parts sorted with unquoted ETags matching their bytes.
 *
 * Faults are queued per kind of request and used once each: `fail("part", "500")`.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { FtrackError, FtrackMemory, uuid } from "./ftrack-memory.js";
import { startFtrackServer, type FtrackServer } from "./fake-session.js";

export type FaultTarget = "api" | "part" | "single" | "get" | "remove";
/** 500/503/403: an error answer; drop: the connection is cut; bad-etag / no-etag: parts only; cut-body: get only (half the body, then cut). */
export type FaultKind = "500" | "503" | "403" | "drop" | "bad-etag" | "no-etag" | "cut-body";

export const API_USER = "api.user";
export const API_KEY = "s3cr3t-Key/with+odd=chars";

const md5hex = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

export interface FileStore {
  url: string;
  api: FtrackServer;
  memory: FtrackMemory;
  /** Stored data by component id. */
  files: Map<string, Uint8Array>;
  /** Every request: method and path (without the query). */
  log: { method: string; path: string }[];
  /** Most part/single PUTs being answered at the same time. */
  maxConcurrentPuts: number;
  /** Checksums and parts as the client sent them. */
  singleUploads: { componentId: string; fileName: string; checksum: unknown; size: number }[];
  completions: { componentId: string; parts: { part_number: number; e_tag: string }[] }[];
  /** Ranges asked for by /component/get and the storage URL. */
  ranges: string[];
  /** Redirect /component/get to the storage URL (as self-hosted servers do). */
  redirect: boolean;
  /** Delay of each PUT answer (ms), so parallel parts overlap visibly. */
  putDelayMs: number;
  /** Called when a part arrives (before it is answered). */
  onPart?: (partNumber: number) => void;
  fail(target: FaultTarget, kind: FaultKind, times?: number): void;
  close(): Promise<void>;
}

interface Upload {
  componentId: string;
  parts: Map<number, Uint8Array>;
  count: number;
}

export async function startFileStore(memory = new FtrackMemory()): Promise<FileStore> {
  const uploads = new Map<string, Upload>();
  const faults: { target: FaultTarget; kind: FaultKind }[] = [];
  const singles = new Map<string, { componentId: string; headers: Record<string, string>; checksum: unknown }>();
  let concurrent = 0;
  let base = "";

  const takeFault = (target: FaultTarget) => {
    const i = faults.findIndex((f) => f.target === target);
    return i < 0 ? undefined : faults.splice(i, 1)[0]!.kind;
  };
  const componentName = (id: string) => {
    const row = memory.rows.get(id);
    if (!row || !memory.isA(row.__entity_type__, "Component")) throw new FtrackError("ValidationError", `no component ${id}`);
    return row;
  };

  const actions = {
    get_upload_metadata(op: Record<string, unknown>) {
      const componentId = String(op.component_id);
      componentName(componentId);
      if (typeof op.file_name !== "string" || typeof op.file_size !== "number") throw new FtrackError("ValidationError", "file_name and file_size are required");
      if (typeof op.parts === "number" && op.parts > 0) {
        const uploadId = uuid();
        uploads.set(uploadId, { componentId, parts: new Map(), count: op.parts });
        const urls = Array.from({ length: op.parts }, (_, i) => ({ signed_url: `${base}/s3/${uploadId}/${i + 1}?X-Signature=abc`, part_number: i + 1 }));
        // Not in order: the client must not rely on it.
        return { component_id: componentId, upload_id: uploadId, urls: urls.reverse() };
      }
      const token = uuid();
      const headers = { "Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename="${op.file_name}"` };
      singles.set(token, { componentId, headers, checksum: op.checksum });
      store.singleUploads.push({ componentId, fileName: op.file_name, checksum: op.checksum, size: op.file_size });
      return { component_id: componentId, url: `${base}/s3/single/${token}?X-Signature=abc`, headers };
    },
    complete_multipart_upload(op: Record<string, unknown>) {
      const upload = uploads.get(String(op.upload_id));
      if (!upload || upload.componentId !== op.component_id) throw new FtrackError("ServerError", "NoSuchUpload");
      const parts = op.parts as { part_number: number; e_tag: string }[];
      store.completions.push({ componentId: upload.componentId, parts });
      if (parts.length !== upload.count) throw new FtrackError("ServerError", `InvalidPart: ${parts.length} of ${upload.count} parts`);
      parts.forEach((p, i) => {
        if (p.part_number !== i + 1) throw new FtrackError("ServerError", "InvalidPartOrder");
        const data = upload.parts.get(p.part_number);
        if (!data || p.e_tag !== md5hex(data)) throw new FtrackError("ServerError", `InvalidPart ${p.part_number} (${p.e_tag})`);
      });
      const all = Buffer.concat(parts.map((p) => upload.parts.get(p.part_number)!));
      store.files.set(upload.componentId, new Uint8Array(all));
      uploads.delete(String(op.upload_id));
      return { action: "complete_multipart_upload" };
    },
  };

  const authorised = (q: URLSearchParams) => q.get("username") === API_USER && q.get("apiKey") === API_KEY;

  const serveBytes = (req: IncomingMessage, res: ServerResponse, data: Uint8Array, fault: FaultKind | undefined) => {
    const range = req.headers.range;
    if (range) store.ranges.push(range);
    const m = /^bytes=(\d+)-$/.exec(range ?? "");
    const start = m ? Number(m[1]) : 0;
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, { "content-length": String(body.length), ...(m ? { "content-range": `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
    if (fault === "cut-body") {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  };

  const route = (req: IncomingMessage, res: ServerResponse, body: Buffer): boolean => {
    const url = new URL(req.url ?? "/", "http://x");
    store.log.push({ method: req.method ?? "", path: url.pathname });
    const answer = (status: number, text = "", headers: Record<string, string> = {}) => {
      res.writeHead(status, headers);
      res.end(text);
    };
    const injected = (target: FaultTarget): FaultKind | undefined => {
      const fault = takeFault(target);
      if (fault === "500" || fault === "503") answer(Number(fault), `injected ${fault}`);
      else if (fault === "drop") res.destroy();
      else return fault;
      return "drop";
    };

    if (req.method === "POST" && url.pathname === "/api") {
      return injected("api") !== undefined;
    }
    if (req.method === "GET" && url.pathname === "/component/get") {
      if (!authorised(url.searchParams)) return answer(401, "bad credentials"), true;
      const fault = injected("get");
      if (fault === "drop") return true;
      const id = url.searchParams.get("id") ?? "";
      const data = store.files.get(id);
      if (!data) return answer(404, `no data for ${id}`), true;
      if (store.redirect) return answer(302, "", { location: `${base}/storage/${id}?X-Signature=abc` }), true;
      serveBytes(req, res, data, fault);
      return true;
    }
    if (req.method === "GET" && url.pathname.startsWith("/storage/")) {
      const data = store.files.get(url.pathname.slice("/storage/".length));
      if (!data) return answer(404), true;
      serveBytes(req, res, data, takeFault("get"));
      return true;
    }
    if (req.method === "GET" && url.pathname === "/component/remove") {
      if (!authorised(url.searchParams)) return answer(401, "bad credentials"), true;
      if (injected("remove") === "drop") return true;
      const id = url.searchParams.get("id") ?? "";
      return answer(store.files.delete(id) ? 200 : 404), true;
    }
    if (req.method === "PUT" && url.pathname.startsWith("/s3/")) {
      concurrent++;
      store.maxConcurrentPuts = Math.max(store.maxConcurrentPuts, concurrent);
      const [, , first, second] = url.pathname.split("/");
      const single = first === "single";
      const respond = (status: number, text = "", headers: Record<string, string> = {}) => setTimeout(() => {
        concurrent--;
        answer(status, text, headers);
      }, store.putDelayMs);
      const fault = takeFault(single ? "single" : "part");
      if (fault === "drop") {
        concurrent--;
        res.destroy();
        return true;
      }
      if (fault === "500" || fault === "503" || fault === "403") return respond(Number(fault), fault === "403" ? "AccessDenied" : "SlowDown"), true;
      if (single) {
        const s = singles.get(second ?? "");
        if (!s) return respond(403, "SignatureDoesNotMatch"), true;
        for (const [k, v] of Object.entries(s.headers)) if (req.headers[k.toLowerCase()] !== v) return respond(403, `SignatureDoesNotMatch: ${k}`), true;
        if (typeof s.checksum === "string" && createHash("md5").update(body).digest("base64") !== s.checksum) return respond(400, "BadDigest"), true;
        store.files.set(s.componentId, new Uint8Array(body));
        return respond(200, "", { etag: `"${md5hex(body)}"` }), true;
      }
      const upload = uploads.get(first ?? "");
      const number = Number(second);
      if (!upload) return respond(404, "NoSuchUpload"), true;
      store.onPart?.(number);
      upload.parts.set(number, new Uint8Array(body));
      const etag = fault === "bad-etag" ? `"${md5hex(Buffer.from("something else"))}"` : `"${md5hex(body)}"`;
      return respond(200, "", fault === "no-etag" ? {} : { etag }), true;
    }
    return false;
  };

  const api = await startFtrackServer(memory, { actions, route });
  base = api.url;
  const store: FileStore = {
    url: api.url,
    api,
    memory,
    files: new Map(),
    log: [],
    maxConcurrentPuts: 0,
    singleUploads: [],
    completions: [],
    ranges: [],
    redirect: false,
    putDelayMs: 5,
    fail(target, kind, times = 1) {
      for (let i = 0; i < times; i++) faults.push({ target, kind });
    },
    close: () => api.close(),
  };
  return store;
}
