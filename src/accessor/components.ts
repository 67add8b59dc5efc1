/**
 * createComponent: Python's `version.create_component(path, data, location)` for @ftrack/api,
 * whose own createComponent uploads through XMLHttpRequest and does not work in Node.
 *
 * `path` is a file ("/shots/plate.mov") or a sequence in clique notation
 * ("/shots/img.%04d.exr [1-10]"). A file gives a FileComponent with `file_type` = its extension
 * and `size`; a sequence gives a SequenceComponent (`padding`, `file_type`, total `size`) with
 * one FileComponent member per frame, named by the frame as written in the file name ("0001"),
 * as Python does. With `location`, the data is copied there from the local files and recorded;
 * if that fails, the components just created are deleted again.
 */
import { statLocal } from "../platform/local-files.js";
import { describeEntity, entityId, type FtrackEntity, type SessionLike } from "./ftrack.js";
import type { Location } from "./location.js";
import { LocationError } from "./location-error.js";
import type { AddComponentsOptions } from "./location-transfer.js";
import type { OriginLocation } from "./unmanaged-location.js";
import { formatFrame, memberPath, parseSequencePath, sequenceTemplate } from "./sequence.js";

export interface CreateComponentOptions extends AddComponentsOptions {
  /** Add the new component to this location (copying the data); none by default. */
  location?: Location;
  /**
   * Also remember the local path in this ftrack.origin (as Python's create_component does), and
   * copy into `location` from it.
   */
  origin?: OriginLocation;
  /** Component name (default "main", ftrack's default). */
  name?: string;
  /** More attributes for the component entity. */
  data?: Record<string, unknown>;
}

/** Python's `os.path.splitext(path)[1]`: the extension of the last path segment, with its dot. */
export function fileExtension(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  // Leading dots do not start an extension (".bashrc" has none).
  return dot > 0 && /[^.]/.test(base.slice(0, dot)) ? base.slice(dot) : "";
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await statLocal(path)).size;
  } catch (e) {
    throw new LocationError("LOCATION_TRANSFER_FAILED", `cannot read ${JSON.stringify(path)}: ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

async function create(session: SessionLike, type: string, data: Record<string, unknown>, created: FtrackEntity[]): Promise<FtrackEntity> {
  let entity: FtrackEntity;
  try {
    entity = (await session.create(type, data)).data;
  } catch (e) {
    throw new LocationError("LOCATION_REGISTER_FAILED", `cannot create ${type} ${JSON.stringify(data.name)}: ${(e as Error)?.message ?? e}`, { cause: e });
  }
  const merged: FtrackEntity = { ...data, ...entity, __entity_type__: entity.__entity_type__ ?? type };
  created.push(merged);
  return merged;
}

/**
 * Creates a component on `version` from local `path` (file or clique sequence) and, with
 * `options.location`, adds it there. `version` must have an `id`; give it `version`, `link`
 * and `asset.name` (or let the location's structure load them) for the resource identifier.
 */
export async function createComponent(session: SessionLike, version: FtrackEntity, path: string, options: CreateComponentOptions = {}): Promise<FtrackEntity> {
  const versionId = entityId(version, "the version");
  if (!version.__entity_type__) version = { ...version, __entity_type__: "AssetVersion" };
  const created: FtrackEntity[] = [];
  let remembered: FtrackEntity | undefined;
  const base: Record<string, unknown> = { name: options.name ?? "main", ...options.data, version_id: versionId };
  try {
    const seq = parseSequencePath(path);
    let component: FtrackEntity;
    if (!seq) {
      const data = { file_type: fileExtension(path), size: await fileSize(path), ...base };
      component = { ...(await create(session, "FileComponent", data, created)), version, container: null };
    } else {
      const template = sequenceTemplate(seq);
      const files = seq.indexes.map((i) => ({ name: formatFrame(i, seq.padding), path: memberPath(template, i, seq.padding) }));
      const sizes = await Promise.all(files.map((f) => fileSize(f.path)));
      const fileType = fileExtension(template);
      const data = { padding: seq.padding, file_type: fileType, size: sizes.reduce((a, b) => a + b, 0), ...base };
      const container: FtrackEntity = { ...(await create(session, "SequenceComponent", data, created)), version };
      const members: FtrackEntity[] = [];
      for (const [i, f] of files.entries()) {
        const member = await create(session, "FileComponent", { name: f.name, container_id: container.id, size: sizes[i], file_type: fileType }, created);
        members.push({ ...member, container });
      }
      container.members = members;
      component = container;
    }
    if (options.origin) {
      await options.origin.addComponent(component, path);
      remembered = component;
    }
    if (options.location) await options.location.addComponent(component, options.origin ?? path, options);
    return component;
  } catch (e) {
    if (remembered) await options.origin?.removeComponents([remembered]).catch(() => {});
    // Members first, then the container.
    for (const c of created.reverse()) await session.delete(c.__entity_type__ ?? "Component", [entityId(c, describeEntity(c))]).catch(() => {});
    throw e;
  }
}
