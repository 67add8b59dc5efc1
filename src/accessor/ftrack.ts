/**
 * The slice of `@ftrack/api` this layer uses, as structural types: the caller passes an
 * `@ftrack/api` Session (or anything shaped like it) and nothing here imports the package at
 * run time, so importing the SFTP client never loads ftrack code. Entities are the plain
 * objects @ftrack/api returns: `__entity_type__`, `id`, and ftrack's attribute names.
 *
 * @ftrack/api (JavaScript) differs from the Python API this layer mirrors: create / update /
 * delete are sent to the server at once (there is no `commit()`), and its EventHub only
 * subscribes to plain `topic=…` expressions.
 */

/** An ftrack entity as @ftrack/api returns it. */
export interface FtrackEntity {
  __entity_type__?: string;
  id?: string;
  [attribute: string]: unknown;
}

/** The Session methods used here; an @ftrack/api `Session` satisfies it. */
export interface SessionLike {
  query(expression: string): Promise<{ data: FtrackEntity[] }>;
  create(entityType: string, data: Record<string, unknown>): Promise<{ data: FtrackEntity }>;
  update(entityType: string, keys: string[] | string, data: Record<string, unknown>): Promise<{ data: FtrackEntity }>;
  delete(entityType: string, keys: string[] | string): Promise<unknown>;
  /** The API user (used to find the user a Job belongs to). */
  apiUser?: string;
  eventHub?: EventHubLike;
}

/** Only `query` is needed to load entity attributes. */
export type QuerySession = Pick<SessionLike, "query">;

/** An ftrack event as the event hub delivers it. */
export interface FtrackEvent {
  id?: string;
  topic: string;
  data: Record<string, unknown>;
  source?: { id?: string; user?: { id?: string; username?: string }; [key: string]: unknown };
  [key: string]: unknown;
}

/** The EventHub methods used here; @ftrack/api's `EventHub` satisfies it. */
export interface EventHubLike {
  // `any`: @ftrack/api types its callback's payload as a closed union of its own event types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  subscribe(subscription: string, callback: (event: any) => unknown, metadata?: { id: string; [key: string]: unknown }): string;
  unsubscribe(identifier: string): boolean;
  /**
   * Publishes an event (@ftrack/api: an `Event`, read through `getData()` / `prepareSource()`;
   * see publishEvent in events.ts). Optional: hubs without it publish nothing.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  publish?(event: any): unknown;
  /** @ftrack/api: whether the hub is connected; publishing is skipped when it is not. */
  isConnected?(): boolean;
}

/**
 * A string literal for an ftrack query expression: double-quoted, with quotes escaped the way
 * @ftrack/api's `expression` template tag escapes them.
 */
export function quote(value: string): string {
  return `"${String(value).replace(/(['"])/g, "\\$1")}"`;
}

/** `("a", "b")` for an `in` clause. */
export function quoteList(values: readonly string[]): string {
  return `(${values.map(quote).join(", ")})`;
}

/** The entity's id, or a TypeError naming what is missing. */
export function entityId(entity: FtrackEntity | null | undefined, what = "entity"): string {
  const id = entity?.id;
  if (typeof id !== "string" || id === "") throw new TypeError(`${what} has no id`);
  return id;
}

/** The entity's type name (`__entity_type__`), or undefined. */
export function entityType(entity: FtrackEntity | null | undefined): string | undefined {
  const t = entity?.__entity_type__;
  return typeof t === "string" ? t : undefined;
}

/** Component types with members (Python: `"members" in component.keys()`). */
export function isContainerType(type: string | undefined): boolean {
  return type === "SequenceComponent" || type === "ContainerComponent";
}

/** A short description of an entity for messages: `FileComponent "main" (id)`. */
export function describeEntity(entity: FtrackEntity | null | undefined): string {
  if (!entity) return String(entity);
  const name = typeof entity.name === "string" ? ` ${JSON.stringify(entity.name)}` : "";
  return `${entityType(entity) ?? "entity"}${name}${entity.id ? ` (${entity.id})` : ""}`;
}
