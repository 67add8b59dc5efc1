/**
 * Components and their members: loading the members of a Sequence/ContainerComponent through
 * the session when the caller did not select them, and batched ComponentLocation lookups.
 * Members are returned as copies whose `container` is the container object itself, so the
 * structure never needs to load it again (the caller's objects are not modified).
 */
import { LocationError } from "./location-error.js";
import { describeEntity, entityId, entityType, isContainerType, quote, quoteList, type FtrackEntity, type SessionLike } from "./ftrack.js";

/** Ids per `in (...)` clause, to keep query expressions a reasonable size. */
const BATCH = 200;

export async function query(session: Pick<SessionLike, "query">, expression: string): Promise<FtrackEntity[]> {
  try {
    return (await session.query(expression)).data;
  } catch (e) {
    throw new LocationError("LOCATION_QUERY_FAILED", `ftrack query failed (${expression}): ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

/** The members of a container component, sorted by name; [] for other components. */
export async function loadMembers(session: Pick<SessionLike, "query">, component: FtrackEntity): Promise<FtrackEntity[]> {
  const type = entityType(component);
  if (!isContainerType(type)) return [];
  let members = component.members;
  if (!Array.isArray(members)) {
    const id = entityId(component, describeEntity(component));
    const rows = await query(session, `select members.id, members.name, members.file_type, members.size from ${type} where id is ${quote(id)}`);
    members = rows[0]?.members ?? [];
  }
  return (members as FtrackEntity[])
    .map((m) => (m.container === undefined ? { ...m, container: component } : m))
    .sort((a, b) => String(a.name ?? "").localeCompare(String(b.name ?? ""), "en", { numeric: true }));
}

/** component id → resource identifier, for the components recorded in `locationId`. */
export async function componentLocations(session: Pick<SessionLike, "query">, locationId: string, componentIds: readonly string[]): Promise<Map<string, { id: string; resourceIdentifier: string }>> {
  const out = new Map<string, { id: string; resourceIdentifier: string }>();
  const unique = [...new Set(componentIds)];
  for (let i = 0; i < unique.length; i += BATCH) {
    const ids = unique.slice(i, i + BATCH);
    const rows = await query(session,
      `select id, component_id, resource_identifier from ComponentLocation where location_id is ${quote(locationId)} and component_id in ${quoteList(ids)}`);
    for (const r of rows) {
      if (typeof r.component_id === "string") out.set(r.component_id, { id: String(r.id), resourceIdentifier: String(r.resource_identifier ?? "") });
    }
  }
  return out;
}
