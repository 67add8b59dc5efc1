/**
 * Location.addComponents, the way ftrack's Python `Location.add_components` works — refuse
 * components already present, copy data through the accessors (`open` "rb" → `open` "wb"),
 * make a directory for a ContainerComponent, treat a SequenceComponent as its members' files,
 * never overwrite existing data, then record one ComponentLocation per component, members
 * first — but all or nothing: if a copy or a ComponentLocation create fails, the records
 * created and the data copied by this call are removed again before the error is thrown
 * (Python left that to the caller). Files are copied a few at a time; progress is reported
 * per chunk.
 */
import type { Accessor, AccessorData, FileCopyOptions } from "./accessor.js";
import { concat } from "../ssh/wire/writer.js";
import { bytesEqual } from "../util/bytes.js";
import { isAccessorError } from "./accessor.js";
import { componentLocations, loadMembers } from "./component-tree.js";
import { CHUNK_SIZE } from "./data.js";
import { DiskAccessor } from "./disk-accessor.js";
import { describeEntity, entityId, entityType, isContainerType, type FtrackEntity, type SessionLike } from "./ftrack.js";
import { LocationError } from "./location-error.js";
import { memberPath, parseSequencePath, sequenceTemplate } from "./sequence.js";
import type { StructureContext } from "./standard-structure.js";

/** What computes resource identifiers (StandardStructure, or your own). */
export interface Structure {
  getResourceIdentifier(entity: FtrackEntity, context?: StructureContext): Promise<string>;
}

/** Where data comes from: another location, or a local file path (Python's origin location). */
export interface LocationSource {
  readonly name: string;
  readonly accessor: Accessor | undefined;
  getResourceIdentifiers(components: FtrackEntity[]): Promise<string[]>;
}
export type Source = LocationSource | string;

export interface AddProgress {
  /** The file component being copied. */
  component: FtrackEntity;
  /** 1-based position among the files of this call, and their number. */
  index: number;
  count: number;
  /** Bytes of this file copied so far, and its size when known. */
  transferred: number;
  total: number | undefined;
  /** Bytes copied by this call so far. */
  bytesDone: number;
}

export interface AddComponentsOptions {
  /** Also add the members of container components (default true, as in Python). */
  recursive?: boolean;
  onProgress?: (progress: AddProgress) => void;
  signal?: AbortSignal;
  /** Files copied at the same time (default 4). */
  concurrency?: number;
}

/** The target side: the Location's id, session, accessor and structure. */
export interface TargetLocation {
  readonly id: string;
  readonly name: string;
  readonly session: SessionLike;
  readonly accessor: Accessor | undefined;
  readonly structure: Structure | undefined;
  /**
   * False for a location that records where data already is without copying it (Python's
   * UnmanagedLocationMixin, e.g. ftrack.unmanaged): containers get source identifiers too, and
   * nothing is copied.
   */
  readonly managesData?: boolean;
}

interface Item {
  component: FtrackEntity;
  kind: "file" | "sequence" | "container";
  source: Source;
  /** The container this member belongs to, and the source path given for it. */
  parent?: Item;
  sourceId?: string;
  targetId?: string;
}

const originAccessor = new DiskAccessor();
const errText = (e: unknown) => (e as Error)?.message ?? String(e);

function itemKind(component: FtrackEntity): Item["kind"] {
  const type = entityType(component);
  return type === "SequenceComponent" ? "sequence" : isContainerType(type) ? "container" : "file";
}

/**
 * The local path of a component when the source is a path (file, sequence or directory); a
 * sequence itself is its template ("/shots/img.%04d.exr", without the frame range).
 */
function pathFor(item: Item): string {
  const top = item.parent ?? item;
  const path = top.source as string;
  if (!item.parent) {
    const parsed = item.kind === "sequence" ? parseSequencePath(path) : undefined;
    return parsed ? sequenceTemplate(parsed) : path;
  }
  const name = String(item.component.name ?? "");
  if (item.parent.kind === "sequence") {
    const parsed = parseSequencePath(path);
    return memberPath(parsed ? sequenceTemplate(parsed) : path, name);
  }
  return `${path.replace(/\/+$/, "")}/${name}${String(item.component.file_type ?? "")}`;
}

/** The plan: each component, then (when recursive) its members, with their source. */
async function planItems(session: SessionLike, components: FtrackEntity[], sources: Source[], recursive: boolean): Promise<Item[]> {
  const items: Item[] = [];
  for (const [i, component] of components.entries()) {
    const source = sources.length === 1 ? sources[0]! : sources[i]!;
    const item: Item = { component, kind: itemKind(component), source };
    items.push(item);
    if (item.kind !== "file" && recursive) {
      for (const member of await loadMembers(session, component)) items.push({ component: member, kind: itemKind(member), source, parent: item });
    }
  }
  return items;
}

/**
 * Each component with the local path of its data, members after their container (a sequence's
 * members by frame), as a location whose source is a path sees them; for ftrack.origin.
 */
export async function localPaths(session: SessionLike, components: FtrackEntity[], paths: string[], recursive = true): Promise<{ component: FtrackEntity; path: string }[]> {
  if (paths.length !== 1 && paths.length !== components.length) throw new TypeError("paths must be one path or one per component");
  return (await planItems(session, components, paths, recursive)).map((it) => ({ component: it.component, path: pathFor(it) }));
}

export async function addComponentsTo(
  target: TargetLocation,
  components: FtrackEntity[],
  sources: Source | Source[],
  options: AddComponentsOptions = {},
): Promise<{ component: FtrackEntity; resourceIdentifier: string }[]> {
  const list = Array.isArray(sources) ? sources : [sources];
  if (list.length !== 1 && list.length !== components.length) {
    throw new TypeError("sources must be one source or one per component");
  }
  const { accessor, structure } = target;
  if (!structure) throw new LocationError("LOCATION_NOT_CONFIGURED", `no structure is set for location ${target.name}`);
  if (!accessor) throw new LocationError("LOCATION_NOT_CONFIGURED", `no accessor is set for location ${target.name}`);
  if (components.length === 0) return [];
  const session = target.session;

  // 1. The plan: each container before its members.
  for (const [i, component] of components.entries()) {
    const source = list.length === 1 ? list[0]! : list[i]!;
    if (typeof source !== "string" && !source.accessor) {
      throw new LocationError("LOCATION_NOT_CONFIGURED", `no accessor is set for source location ${source.name}`, { components: [component] });
    }
  }
  const items = await planItems(session, components, list, options.recursive ?? true);

  // 2. Nothing may be in the target already (Python: ComponentInLocationError).
  const ids = items.map((it) => entityId(it.component, describeEntity(it.component)));
  const present = await componentLocations(session, target.id, ids);
  if (present.size > 0) {
    const already = items.filter((it) => present.has(it.component.id as string)).map((it) => it.component);
    throw new LocationError("LOCATION_COMPONENT_IN_LOCATION",
      `${already.map(describeEntity).join(", ")} ${already.length === 1 ? "is" : "are"} already in location ${target.name}`, { components: already });
  }

  // 3. Source and target identifiers (of files, or of everything when no data is copied).
  const files = items.filter((it) => it.kind === "file");
  const managed = target.managesData ?? true;
  const bySource = new Map<LocationSource, Item[]>();
  for (const it of managed ? files : items) {
    const src = it.source;
    if (typeof src === "string") it.sourceId = pathFor(it);
    else bySource.set(src, [...(bySource.get(src) ?? []), it]);
  }
  for (const [src, its] of bySource) {
    const rids = await src.getResourceIdentifiers(its.map((it) => it.component));
    its.forEach((it, i) => (it.sourceId = rids[i]));
  }
  for (const it of items) {
    const context: StructureContext = { session };
    if (it.sourceId !== undefined) context.sourceResourceIdentifier = it.sourceId;
    try {
      it.targetId = await structure.getResourceIdentifier(it.component, context);
    } catch (e) {
      throw new LocationError("LOCATION_TRANSFER_FAILED",
        `cannot compute the resource identifier of ${describeEntity(it.component)} in location ${target.name}: ${errText(e)}`, { components: [it.component], cause: e });
    }
  }

  // 4. Copy (unless the location does not manage data).
  const written: string[] = [];
  const madeContainers: string[] = [];
  const rollback = async (): Promise<string[]> => {
    const left: string[] = [];
    for (const id of [...written].reverse()) await accessor.remove(id).catch((e) => (isAccessorError(e, "ACCESSOR_RESOURCE_NOT_FOUND") ? undefined : left.push(id)));
    for (const id of [...madeContainers].reverse()) await accessor.remove(id).catch(() => {});
    return left;
  };
  try {
    for (const it of managed ? items : []) {
      if (it.kind === "container" && !(await accessor.isContainer(it.targetId!))) {
        await accessor.makeContainer(it.targetId!);
        madeContainers.push(it.targetId!);
      }
    }
    if (managed) await copyFiles(target, accessor, files, written, options);
  } catch (e) {
    const leftBehind = await rollback();
    if (e instanceof LocationError) throw new LocationError(e.code, e.message, { components: e.components, leftBehind, cause: e.cause });
    const failed = (e as { component?: FtrackEntity }).component;
    throw new LocationError("LOCATION_TRANSFER_FAILED",
      `failed to transfer ${failed ? describeEntity(failed) : "component data"} to location ${target.name}: ${errText((e as { error?: unknown }).error ?? e)}`,
      { components: failed ? [failed] : [], leftBehind, cause: (e as { error?: unknown }).error ?? e });
  }

  // 5. Record: one ComponentLocation per component, members first.
  const ordered = [...items.filter((it) => it.parent), ...items.filter((it) => !it.parent)];
  try {
    for (const it of ordered) {
      await session.create("ComponentLocation", { component_id: it.component.id, location_id: target.id, resource_identifier: it.targetId });
    }
  } catch (e) {
    const recorded = await componentLocations(session, target.id, ids).catch(() => new Map<string, { id: string }>());
    for (const { id } of recorded.values()) await session.delete("ComponentLocation", [id]).catch(() => {});
    const leftBehind = await rollback();
    throw new LocationError("LOCATION_REGISTER_FAILED",
      `copied the data to location ${target.name} but recording it in ftrack failed, so the copy was removed again: ${errText(e)}`,
      { components: components, leftBehind, cause: e });
  }
  return ordered.map((it) => ({ component: it.component, resourceIdentifier: it.targetId! }));
}

/** Copies the file items, a few at a time; on the first failure the others stop. */
async function copyFiles(target: TargetLocation, accessor: Accessor, files: Item[], written: string[], options: AddComponentsOptions): Promise<void> {
  const made = new Map<string, Promise<void>>();
  const ensureContainer = async (id: string) => {
    let container: string;
    try {
      container = await accessor.getContainer(id);
    } catch (e) {
      if (isAccessorError(e, "ACCESSOR_PARENT_NOT_FOUND")) return;
      throw e;
    }
    let p = made.get(container);
    if (!p) made.set(container, (p = accessor.makeContainer(container)));
    await p;
  };
  let next = 0;
  let bytesDone = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < files.length) {
      const index = next++;
      const it = files[index]!;
      try {
        if (options.signal?.aborted) throw new LocationError("LOCATION_ABORTED", `adding components to ${target.name} was aborted`);
        await ensureContainer(it.targetId!);
        const sourceAccessor = typeof it.source === "string" ? originAccessor : it.source.accessor!;
        const total = typeof it.component.size === "number" ? it.component.size : undefined;
        if (await accessor.exists(it.targetId!)) {
          const adopted = await sameData(sourceAccessor, it.sourceId!, accessor, it.targetId!);
          if (adopted === undefined) {
            throw new LocationError("LOCATION_DATA_EXISTS",
              `cannot add ${describeEntity(it.component)}: data already exists at ${JSON.stringify(it.targetId)} in location ${target.name}, and overwriting it could lose data`,
              { components: [it.component] });
          }
          // Our own earlier copy: recorded below like a fresh one. Not added to `written`: a
          // rollback removes only what this attempt wrote.
          bytesDone += adopted;
          options.onProgress?.({ component: it.component, index: index + 1, count: files.length, transferred: adopted, total, bytesDone });
          continue;
        }
        await copyOne(sourceAccessor, it.sourceId!, accessor, it.targetId!, options.signal, (n, transferred) => {
          bytesDone += n;
          options.onProgress?.({ component: it.component, index: index + 1, count: files.length, transferred, total, bytesDone });
        }, () => written.push(it.targetId!));
      } catch (e) {
        failure ??= e instanceof LocationError ? e : { component: it.component, error: e };
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 4, files.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failure !== undefined) throw failure;
}

/**
 * The size of the data at `toId` when it is byte for byte the source's, else undefined. An
 * earlier attempt whose final rename reached the server but whose reply was lost (the
 * connection dropped during close) committed the file without recording it; its retry adopts
 * that copy instead of failing with LOCATION_DATA_EXISTS. Anything else there is left alone.
 */
async function sameData(from: Accessor, fromId: string, to: Accessor, toId: string): Promise<number | undefined> {
  if (!(await to.isFile(toId))) return undefined;
  const a = await from.open(fromId, "rb");
  try {
    const b = await to.open(toId, "rb");
    try {
      for (let size = 0; ;) {
        const [x, y] = [await readFull(a, CHUNK_SIZE), await readFull(b, CHUNK_SIZE)];
        if (!bytesEqual(x, y)) return undefined;
        if (x.length === 0) return size;
        size += x.length;
      }
    } finally {
      await b.close().catch(() => {});
    }
  } finally {
    await a.close().catch(() => {});
  }
}

/** Exactly `n` bytes, or fewer only at end of data (a read may return less than asked). */
async function readFull(data: AccessorData, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const chunk = await data.read(n - got);
    if (chunk.length === 0) break;
    parts.push(chunk);
    got += chunk.length;
  }
  return parts.length === 1 ? parts[0]! : concat(...parts);
}

/**
 * A whole-file copy one side does itself when the other side is a local file: SFTP's
 * upload()/download(), with the same default streams as uploadDir and the CLI, instead of
 * chunks through two handles on one session. Undefined when neither side offers one.
 */
async function fileCopy(from: Accessor, fromId: string, to: Accessor, toId: string): Promise<((o: FileCopyOptions) => Promise<void>) | undefined> {
  const localPath = async (a: Accessor, id: string) => a.getFilesystemPath?.(id).catch(() => undefined);
  if (to.putFile && from.getFilesystemPath && (await from.isFile(fromId))) {
    const p = await localPath(from, fromId);
    if (p !== undefined) return (o) => to.putFile!(p, toId, o);
  }
  if (from.getFile && to.getFilesystemPath) {
    const p = await localPath(to, toId);
    if (p !== undefined) return (o) => from.getFile!(fromId, p, o);
  }
  return undefined;
}

async function copyOne(from: Accessor, fromId: string, to: Accessor, toId: string, signal: AbortSignal | undefined,
  progress: (n: number, transferred: number) => void, committed: () => void): Promise<void> {
  const aborted = () => new LocationError("LOCATION_ABORTED", `copying ${JSON.stringify(fromId)} was aborted`);
  const direct = await fileCopy(from, fromId, to, toId);
  if (direct) {
    let transferred = 0;
    try {
      await direct({ signal, onProgress: (t) => progress(t - transferred, (transferred = t)) });
    } catch (e) {
      throw signal?.aborted ? aborted() : e;
    }
    if (transferred === 0) progress(0, 0);
    committed();
    return;
  }
  const src = await from.open(fromId, "rb", { signal });
  try {
    const dst = await to.open(toId, "wb", { signal });
    try {
      let transferred = 0;
      for (;;) {
        if (signal?.aborted) throw aborted();
        const chunk = await src.read(CHUNK_SIZE);
        if (chunk.length === 0) break;
        await dst.write(chunk);
        transferred += chunk.length;
        progress(chunk.length, transferred);
      }
      if (transferred === 0) progress(0, 0);
      await dst.close();
      committed();
    } catch (e) {
      await dst.abort().catch(() => {});
      // An accessor stopped by the signal reports its own error: the caller asked for this one.
      throw signal?.aborted ? aborted() : e;
    }
  } finally {
    await src.close().catch(() => {});
  }
}
