/**
 * The two built-in locations of ftrack's Python API that move no data:
 *
 * - `ftrack.unmanaged` (UnmanagedLocation): records where data already is. Adding a component
 *   records the source's resource identifier (a local path, or the identifier the source
 *   location has) as it is (Python's OriginStructure) and copies nothing; removing deletes the
 *   record and leaves the data (Python's UnmanagedLocationMixin). Priority 90.
 * - `ftrack.origin` (OriginLocation): the local files a component is created from. Nothing is
 *   sent to ftrack — it remembers component → path in memory (Python's MemoryLocationMixin),
 *   for this process only, and serves as the source of a transfer. Priority 100. ftrack's
 *   transfer action leaves it out, as Python's does.
 *
 *     const origin = new OriginLocation({ session });
 *     await origin.addComponent(component, "/renders/comp.%04d.exr [1001-1100]");
 *     await studioSftp.addComponent(component, origin);
 */
import { DiskAccessor } from "./disk-accessor.js";
import { describeEntity, entityId, quote, type FtrackEntity, type SessionLike } from "./ftrack.js";
import { loadMembers, query } from "./component-tree.js";
import { Location, type LocationOptions } from "./location.js";
import { LocationError } from "./location-error.js";
import { localPaths, type LocationSource, type Structure } from "./location-transfer.js";
import { StructureError, type StructureContext } from "./standard-structure.js";

/** ftrack's fixed ids of its built-in locations. */
export const ORIGIN_LOCATION_ID = "ce9b348f-8809-11e3-821c-20c9d081909b";
export const ORIGIN_LOCATION_NAME = "ftrack.origin";
export const UNMANAGED_LOCATION_ID = "cb268ecc-8809-11e3-a7e2-20c9d081909b";
export const UNMANAGED_LOCATION_NAME = "ftrack.unmanaged";

/** Python's OriginStructure: the identifier is the source's, unchanged. */
export class OriginStructure implements Structure {
  async getResourceIdentifier(entity: FtrackEntity, context: StructureContext = {}): Promise<string> {
    const rid = context.sourceResourceIdentifier;
    if (typeof rid !== "string" || rid === "") {
      throw new StructureError("STRUCTURE_MISSING_ATTRIBUTE", `${describeEntity(entity)} has no source resource identifier to record`, "sourceResourceIdentifier");
    }
    return rid;
  }
}

/** ftrack.unmanaged, or any location that records data where it is. */
export class UnmanagedLocation extends Location {
  constructor(options: LocationOptions) {
    super({ accessor: new DiskAccessor(), structure: new OriginStructure(), priority: 90, ...options });
  }

  override get managesData(): boolean {
    return false;
  }
}

/** The ftrack.unmanaged Location of `session` (by its fixed id, else by name). */
export async function registerUnmanagedLocation(session: SessionLike, options: Omit<LocationOptions, "session" | "entity"> = {}): Promise<UnmanagedLocation> {
  const select = "select id, name, label from Location";
  const entity = (await query(session, `${select} where id is ${quote(UNMANAGED_LOCATION_ID)}`))[0]
    ?? (await query(session, `${select} where name is ${quote(UNMANAGED_LOCATION_NAME)}`))[0];
  if (!entity) throw new LocationError("LOCATION_NOT_CONFIGURED", `this ftrack server has no ${UNMANAGED_LOCATION_NAME} location`);
  return new UnmanagedLocation({ ...options, session, entity });
}

/** ftrack.origin: local paths of components, remembered in memory, never recorded in ftrack. */
export class OriginLocation implements LocationSource {
  readonly id = ORIGIN_LOCATION_ID;
  readonly name = ORIGIN_LOCATION_NAME;
  readonly entity: FtrackEntity = { __entity_type__: "Location", id: ORIGIN_LOCATION_ID, name: ORIGIN_LOCATION_NAME };
  readonly accessor = new DiskAccessor();
  priority = 100;
  readonly #session: SessionLike;
  private readonly paths = new Map<string, string>();

  /** `session` loads the members of containers that were not given with them. */
  constructor(options: { session: SessionLike }) {
    this.#session = options.session;
  }

  addComponent(component: FtrackEntity, path: string, options: { recursive?: boolean } = {}): Promise<{ component: FtrackEntity; resourceIdentifier: string }[]> {
    return this.addComponents([component], path, options);
  }

  /**
   * Remembers the local path of each component and (recursive, the default) of its members:
   * a file, a sequence in clique notation ("/r/img.%04d.exr [1-10]") or a directory.
   */
  async addComponents(components: FtrackEntity[], paths: string | string[], options: { recursive?: boolean } = {}): Promise<{ component: FtrackEntity; resourceIdentifier: string }[]> {
    const found = await localPaths(this.#session, components, Array.isArray(paths) ? paths : [paths], options.recursive ?? true);
    const already = found.filter((f) => this.paths.has(entityId(f.component, describeEntity(f.component)))).map((f) => f.component);
    if (already.length) {
      throw new LocationError("LOCATION_COMPONENT_IN_LOCATION", `${already.map(describeEntity).join(", ")} ${already.length === 1 ? "is" : "are"} already in location ${this.name}`, { components: already });
    }
    for (const f of found) this.paths.set(f.component.id as string, f.path);
    return found.map((f) => ({ component: f.component, resourceIdentifier: f.path }));
  }

  async getResourceIdentifiers(components: FtrackEntity[]): Promise<string[]> {
    const missing = components.filter((c) => !this.paths.has(entityId(c, describeEntity(c))));
    if (missing.length) {
      throw new LocationError("LOCATION_COMPONENT_NOT_IN_LOCATION", `${missing.map(describeEntity).join(", ")} ${missing.length === 1 ? "is" : "are"} not in location ${this.name}`, { components: missing });
    }
    return components.map((c) => this.paths.get(c.id as string)!);
  }

  async getResourceIdentifier(component: FtrackEntity): Promise<string> {
    return (await this.getResourceIdentifiers([component]))[0]!;
  }

  /** Forgets components and (recursive, the default) their members; the files stay. */
  async removeComponents(components: FtrackEntity[], options: { recursive?: boolean } = {}): Promise<void> {
    await this.getResourceIdentifiers(components);
    for (const c of components) {
      this.paths.delete(c.id as string);
      if (options.recursive ?? true) for (const m of await loadMembers(this.#session, c)) this.paths.delete(String(m.id));
    }
  }

  async getComponentAvailabilities(components: FtrackEntity[]): Promise<number[]> {
    return components.map((c) => (this.paths.has(entityId(c, describeEntity(c))) ? 100 : 0));
  }
}
