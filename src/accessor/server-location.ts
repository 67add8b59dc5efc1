/**
 * The `ftrack.server` location: ftrack's own storage, where most studios keep their media. As
 * in ftrack's Python API (session `_configure_locations`): a ServerAccessor, the entity-id
 * structure (a component's resource identifier is its id) and priority 150. Adding components
 * uploads them (server-upload.ts) and records a ComponentLocation only once the upload has
 * completed — then publishes `ftrack.location.component-added` like @ftrack/api's uploader, so
 * ftrack encodes web-playable versions; removing them asks the server to delete the data.
 *
 *     const server = await registerServerLocation(session);          // an @ftrack/api Session
 *     await studioSftp.addComponent(component, server);              // ftrack.server → studio.sftp
 *     await server.addComponent(component, studioSftp);              // and back
 */
import { COMPONENT_ADDED_TOPIC, publishEvent } from "./events.js";
import type { Accessor } from "./accessor.js";
import { entityId, entityType, isContainerType, quote, type FtrackEntity, type SessionLike } from "./ftrack.js";
import { query } from "./component-tree.js";
import { Location } from "./location.js";
import { LocationError } from "./location-error.js";
import type { AddComponentsOptions, Source, Structure } from "./location-transfer.js";
import { SERVER_LOCATION_ID, SERVER_LOCATION_NAME, ServerAccessor, type ServerAccessorOptions, type ServerSessionLike } from "./server-accessor.js";

/** Python's priority for ftrack.server. */
export const SERVER_LOCATION_PRIORITY = 150;

/** Python's EntityIdStructure: the resource identifier of an entity is its id. */
export class EntityIdStructure implements Structure {
  async getResourceIdentifier(entity: FtrackEntity): Promise<string> {
    return entityId(entity, "the component");
  }
}

/** ftrack.server: a Location that publishes component-added after each successful add. */
export class ServerLocation extends Location {
  override async addComponents(components: FtrackEntity[], sources: Location | Source | (Location | Source)[], options?: AddComponentsOptions): Promise<{ component: FtrackEntity; resourceIdentifier: string }[]> {
    const added = await super.addComponents(components, sources, options);
    for (const { component } of added) {
      publishEvent(this.session.eventHub, COMPONENT_ADDED_TOPIC, { component_id: component.id, location_id: this.id });
    }
    return added;
  }

  /** Containers are nothing on ftrack.server (each member is stored by its own id). */
  protected override removeData(component: FtrackEntity, resourceIdentifier: string, accessor: Accessor): Promise<void> {
    return isContainerType(entityType(component)) ? Promise.resolve() : accessor.remove(resourceIdentifier);
  }
}

export interface RegisterServerLocationOptions extends ServerAccessorOptions {
  /** Default: Python's 150. */
  priority?: number;
}

/**
 * The ftrack.server Location of `session` (found by its fixed id, else by name), configured to
 * read and write ftrack's storage with the session's credentials.
 */
export async function registerServerLocation(session: SessionLike & ServerSessionLike, options: RegisterServerLocationOptions = {}): Promise<ServerLocation> {
  const { priority, ...accessorOptions } = options;
  const accessor = new ServerAccessor(session, accessorOptions);
  const select = "select id, name, label from Location";
  const entity = (await query(session, `${select} where id is ${quote(SERVER_LOCATION_ID)}`))[0]
    ?? (await query(session, `${select} where name is ${quote(SERVER_LOCATION_NAME)}`))[0];
  if (!entity) throw new LocationError("LOCATION_NOT_CONFIGURED", `this ftrack server has no ${SERVER_LOCATION_NAME} location`);
  return new ServerLocation({ session, entity, accessor, structure: new EntityIdStructure(), priority: priority ?? SERVER_LOCATION_PRIORITY });
}
