/**
 * Location: ftrack's Python `ftrack_api.entity.location.Location` for @ftrack/api, which has
 * no such class. It pairs a Location entity (id, name) with an accessor, a structure and a
 * priority, and keeps ftrack's records through the session: a `ComponentLocation` (component_id,
 * location_id, resource_identifier) per component present.
 *
 * Python behaviours kept: add_components' order and checks (already present →
 * LOCATION_COMPONENT_IN_LOCATION; existing data is never overwritten → LOCATION_DATA_EXISTS);
 * sequences are their members' files and a ContainerComponent is a directory; removal removes
 * members first and ignores the missing "file" of a SequenceComponent; availability is the
 * share of members present. Differences: adding is all or nothing (see location-transfer.ts),
 * and there is no commit() — @ftrack/api sends each create/delete at once.
 */
import type { Accessor } from "./accessor.js";
import { AccessorError, isAccessorError } from "./accessor.js";
import { componentLocations, loadMembers, query } from "./component-tree.js";
import { describeEntity, entityId, entityType, isContainerType, quote, type FtrackEntity, type SessionLike } from "./ftrack.js";
import { LocationError } from "./location-error.js";
import { addComponentsTo, type AddComponentsOptions, type Source, type Structure } from "./location-transfer.js";

export interface LocationOptions {
  session: SessionLike;
  /** The Location entity (needs `id`; `name` is used in messages). */
  entity: FtrackEntity;
  accessor?: Accessor;
  structure?: Structure;
  /** Lower is preferred when picking a location; Python's default is 95. */
  priority?: number;
}

export interface RemoveComponentsOptions {
  /** Also remove the members of container components (default true). */
  recursive?: boolean;
  /** Deregister components whose data is already gone instead of failing (default false, as Python). */
  ignoreMissingData?: boolean;
}

export class Location {
  /**
   * The @ftrack/api Session. An ES private field behind a getter, so JSON.stringify and
   * util.inspect of a Location never show the session's API key.
   */
  readonly #session: SessionLike;
  readonly entity: FtrackEntity;
  readonly id: string;
  readonly name: string;
  accessor: Accessor | undefined;
  structure: Structure | undefined;
  priority: number;

  get session(): SessionLike {
    return this.#session;
  }

  /**
   * Whether adding copies data here and removing deletes it (true); false for a location that
   * only records where data is (ftrack.unmanaged, see unmanaged-location.ts).
   */
  get managesData(): boolean {
    return true;
  }

  constructor(options: LocationOptions) {
    this.#session = options.session;
    this.entity = options.entity;
    this.id = entityId(options.entity, "the Location entity");
    this.name = typeof options.entity.name === "string" ? options.entity.name : this.id;
    this.accessor = options.accessor;
    this.structure = options.structure;
    this.priority = options.priority ?? 95;
  }

  /**
   * The Location entity named `name`, created when it does not exist yet (Python's
   * `session.ensure("Location", {"name": …})`), configured with `options`.
   */
  static async ensure(session: SessionLike, name: string, options: Omit<LocationOptions, "session" | "entity"> & { label?: string; description?: string } = {}): Promise<Location> {
    const found = await query(session, `select id, name, label from Location where name is ${quote(name)}`);
    let entity = found[0];
    if (!entity) {
      const data: Record<string, unknown> = { name };
      if (options.label !== undefined) data.label = options.label;
      if (options.description !== undefined) data.description = options.description;
      try {
        entity = (await session.create("Location", data)).data;
      } catch (e) {
        // Created concurrently by someone else? Then use theirs.
        entity = (await query(session, `select id, name, label from Location where name is ${quote(name)}`))[0];
        if (!entity) throw new LocationError("LOCATION_QUERY_FAILED", `cannot create the Location ${JSON.stringify(name)}: ${(e as Error)?.message ?? e}`, { cause: e });
      }
    }
    return new Location({ session, entity, accessor: options.accessor, structure: options.structure, priority: options.priority });
  }

  // --- adding --------------------------------------------------------------------------------

  /**
   * Copies `component`'s data from `source` (another Location, or a local path: a file, a
   * sequence such as "/shots/img.%04d.exr [1-10]", or a directory for a ContainerComponent)
   * and records it here. Resolves with the resource identifiers used, members first.
   */
  addComponent(component: FtrackEntity, source: Location | Source, options?: AddComponentsOptions): Promise<{ component: FtrackEntity; resourceIdentifier: string }[]> {
    return this.addComponents([component], source, options);
  }

  /** Adds several components: `sources` is one source, or one per component. */
  addComponents(components: FtrackEntity[], sources: Location | Source | (Location | Source)[], options?: AddComponentsOptions): Promise<{ component: FtrackEntity; resourceIdentifier: string }[]> {
    return addComponentsTo(this, components, sources, options);
  }

  // --- removing ------------------------------------------------------------------------------

  removeComponent(component: FtrackEntity, options?: RemoveComponentsOptions): Promise<void> {
    return this.removeComponents([component], options);
  }

  /** Removes the data (members first) and the ComponentLocation records of `components`. */
  async removeComponents(components: FtrackEntity[], options: RemoveComponentsOptions = {}): Promise<void> {
    const accessor = this.accessor;
    if (!accessor) throw new LocationError("LOCATION_NOT_CONFIGURED", `no accessor is set for location ${this.name}`, { components });
    for (const component of components) {
      const [rid] = await this.getResourceIdentifiers([component]);
      if (isContainerType(entityType(component)) && (options.recursive ?? true)) {
        const members = await loadMembers(this.session, component);
        const here = await componentLocations(this.session, this.id, members.map((m) => entityId(m, describeEntity(m))));
        await this.removeComponents(members.filter((m) => here.has(m.id as string)), options);
      }
      try {
        if (this.managesData) await this.removeData(component, rid!, accessor);
      } catch (e) {
        // A sequence's identifier is an expression, not a file (Python ignores this too).
        const missing = isAccessorError(e, "ACCESSOR_RESOURCE_NOT_FOUND");
        if (!(missing && (entityType(component) === "SequenceComponent" || options.ignoreMissingData))) {
          throw new LocationError("LOCATION_REMOVE_FAILED", `cannot remove the data of ${describeEntity(component)} from location ${this.name}: ${(e as Error)?.message ?? e}`, { components: [component], cause: e });
        }
      }
      const records = await query(this.session,
        `select id from ComponentLocation where component_id is ${quote(component.id as string)} and location_id is ${quote(this.id)}`);
      for (const r of records) {
        try {
          await this.session.delete("ComponentLocation", [String(r.id)]);
        } catch (e) {
          throw new LocationError("LOCATION_REMOVE_FAILED", `removed the data of ${describeEntity(component)} but could not delete its ComponentLocation: ${(e as Error)?.message ?? e}`, { components: [component], cause: e });
        }
      }
    }
  }

  /**
   * Removes one component's data. A location whose storage has no containers (ftrack.server)
   * overrides it to leave containers alone: their members hold the data.
   */
  protected removeData(_component: FtrackEntity, resourceIdentifier: string, accessor: Accessor): Promise<void> {
    return accessor.remove(resourceIdentifier);
  }

  // --- lookups -------------------------------------------------------------------------------

  getResourceIdentifier(component: FtrackEntity): Promise<string> {
    return this.getResourceIdentifiers([component]).then((r) => r[0]!);
  }

  /** The recorded resource identifiers; LOCATION_COMPONENT_NOT_IN_LOCATION names the missing. */
  async getResourceIdentifiers(components: FtrackEntity[]): Promise<string[]> {
    const found = await componentLocations(this.session, this.id, components.map((c) => entityId(c, describeEntity(c))));
    const missing = components.filter((c) => !found.has(c.id as string));
    if (missing.length) {
      throw new LocationError("LOCATION_COMPONENT_NOT_IN_LOCATION",
        `${missing.map(describeEntity).join(", ")} ${missing.length === 1 ? "is" : "are"} not in location ${this.name}`, { components: missing });
    }
    return components.map((c) => found.get(c.id as string)!.resourceIdentifier);
  }

  /** Percentage (0-100) of the component present here; containers count their members. */
  async getComponentAvailability(component: FtrackEntity): Promise<number> {
    return (await this.getComponentAvailabilities([component]))[0]!;
  }

  async getComponentAvailabilities(components: FtrackEntity[]): Promise<number[]> {
    const members = new Map<FtrackEntity, FtrackEntity[]>();
    const ids: string[] = [];
    for (const c of components) {
      const m = await loadMembers(this.session, c);
      if (m.length) members.set(c, m);
      for (const x of m.length ? m : [c]) ids.push(entityId(x, describeEntity(x)));
    }
    const here = await componentLocations(this.session, this.id, ids);
    return components.map((c) => {
      const m = members.get(c);
      const share = m ? (m.filter((x) => here.has(x.id as string)).length / m.length) * 100 : here.has(c.id as string) ? 100 : 0;
      return Math.max(0, Math.min(100, Math.round(share * 1e9) / 1e9));
    });
  }

  /** The local path of a component (accessors with a file system only, e.g. DiskAccessor). */
  async getFilesystemPath(component: FtrackEntity): Promise<string> {
    const rid = await this.getResourceIdentifier(component);
    if (!this.accessor?.getFilesystemPath) {
      throw new AccessorError("ACCESSOR_UNSUPPORTED", `the accessor of location ${this.name} has no file system paths`, { resourceIdentifier: rid, operation: "getFilesystemPath" });
    }
    return this.accessor.getFilesystemPath(rid);
  }

  async getUrl(component: FtrackEntity): Promise<string> {
    const rid = await this.getResourceIdentifier(component);
    if (!this.accessor) throw new LocationError("LOCATION_NOT_CONFIGURED", `no accessor is set for location ${this.name}`, { components: [component] });
    return this.accessor.getUrl(rid);
  }
}
