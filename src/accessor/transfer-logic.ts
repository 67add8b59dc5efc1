/**
 * The logic of the transfer-components action as plain functions, testable without a server:
 * translating the event's selection, the component queries, the launch form, parsing its
 * values, and the transfer itself with the Python action's error rules. The event handlers
 * and the Job are in transfer-action.ts.
 */
import { quote, quoteList, type FtrackEntity } from "./ftrack.js";
import type { Location } from "./location.js";
import { LocationError } from "./location-error.js";

export const TRANSFER_ACTION_IDENTIFIER = "transfer-components";
export const TRANSFER_ACTION_LABEL = "Transfer component(s)";
export const SUPPORTED_ENTITY_TYPES = ["AssetVersion", "TypedContext", "Project", "Component"] as const;
/** Locations the Python action leaves out of its form. */
export const EXCLUDED_LOCATIONS = ["ftrack.origin", "ftrack.connect"];

export interface SelectedEntity {
  entityType: string;
  entityId: string;
}

const ALIASES: Record<string, string> = {
  show: "Project",
  project: "Project",
  task: "TypedContext",
  typedcontext: "TypedContext",
  context: "TypedContext",
  assetversion: "AssetVersion",
  component: "Component",
  filecomponent: "Component",
  sequencecomponent: "Component",
  containercomponent: "Component",
};

/**
 * The event's `data.selection` (`[{ entityId, entityType }]`, types as the web UI writes them:
 * "show", "task", "assetversion", "Component", …) as API entity types, like the Python
 * action handler's `_translate_event`. `schemas` (session.schemas) resolve other aliases.
 */
export function translateSelection(selection: unknown, schemas: readonly { id: string; alias_for?: unknown }[] = []): SelectedEntity[] {
  if (!Array.isArray(selection)) return [];
  const out: SelectedEntity[] = [];
  for (const item of selection as Record<string, unknown>[]) {
    const rawType = item?.entityType;
    const id = item?.entityId;
    if (typeof rawType !== "string" || typeof id !== "string") continue;
    const key = rawType.replace(/_/g, "").toLowerCase();
    const type = ALIASES[key]
      ?? schemas.find((s) => typeof s.alias_for === "string" && s.alias_for.toLowerCase() === key)?.id
      ?? schemas.find((s) => s.id.toLowerCase() === key)?.id
      ?? rawType;
    out.push({ entityType: type, entityId: id });
  }
  return out;
}

/** The Python action's rule: at least one entity, all of supported types. */
export function isValidSelection(entities: readonly SelectedEntity[]): boolean {
  return entities.length > 0 && entities.every((e) => (SUPPORTED_ENTITY_TYPES as readonly string[]).includes(e.entityType));
}

/** The queries for the components under `entities` that are in location `locationId`. */
export function componentQueries(entities: readonly SelectedEntity[], locationId: string): string[] {
  const groups = new Map<string, string[]>();
  for (const e of entities) groups.set(e.entityType, [...(groups.get(e.entityType) ?? []), e.entityId]);
  const ids = (type: string) => quoteList(groups.get(type)!);
  const wheres: string[] = [];
  if (groups.has("Project")) wheres.push(`(version.asset.parent.project.id in ${ids("Project")} or version.asset.parent.id in ${ids("Project")})`);
  if (groups.has("TypedContext")) wheres.push(`(version.asset.parent.ancestors.id in ${ids("TypedContext")} or version.asset.parent.id in ${ids("TypedContext")})`);
  if (groups.has("AssetVersion")) wheres.push(`version_id in ${ids("AssetVersion")}`);
  if (groups.has("Component")) wheres.push(`id in ${ids("Component")}`);
  const select = "select id, name, file_type, size, version_id from Component";
  return wheres.map((w) => `${select} where ${w} and component_locations.location_id is ${quote(locationId)}`);
}

export interface LocationChoice {
  id: string;
  name: string;
  label?: string;
  priority?: number;
}

/** The launch form: source, target, and the two "ignore" switches of the Python action. */
export function transferForm(locations: readonly LocationChoice[], excluded: readonly string[] = EXCLUDED_LOCATIONS): Record<string, unknown>[] {
  const usable = locations.filter((l) => !excluded.includes(l.name)).slice().sort((a, b) => (a.priority ?? 95) - (b.priority ?? 95));
  const options = usable.map((l) => ({ label: l.label || l.name, value: l.id }));
  const yesNo = [{ label: "Yes", value: "true" }, { label: "No", value: "false" }];
  return [
    { type: "label", value: "Transfer components between locations" },
    { type: "enumerator", label: "Source location", name: "from_location", value: options[0]?.value ?? null, data: options },
    { type: "enumerator", label: "Target location", name: "to_location", value: options[1]?.value ?? options[0]?.value ?? null, data: options },
    { type: "label", value: "---" },
    { type: "enumerator", label: "Ignore missing", name: "ignore_component_not_in_location", value: "false", data: yesNo },
    { type: "enumerator", label: "Ignore errors", name: "ignore_location_errors", value: "false", data: yesNo },
  ];
}

export interface TransferValues {
  sourceId: string;
  targetId: string;
  ignoreComponentNotInLocation: boolean;
  ignoreLocationErrors: boolean;
}

/** The submitted form values, or a message saying what is wrong with them. */
export function parseTransferValues(values: unknown): TransferValues | { error: string } {
  const v = (values ?? {}) as Record<string, unknown>;
  const sourceId = v.from_location;
  const targetId = v.to_location;
  if (typeof sourceId !== "string" || sourceId === "") return { error: "No source location was chosen." };
  if (typeof targetId !== "string" || targetId === "") return { error: "No target location was chosen." };
  if (sourceId === targetId) return { error: "Source and target locations are the same." };
  const yes = (x: unknown) => x === true || x === "true";
  return { sourceId, targetId, ignoreComponentNotInLocation: yes(v.ignore_component_not_in_location), ignoreLocationErrors: yes(v.ignore_location_errors) };
}

export interface TransferResult {
  /** Components found in the source. */
  total: number;
  transferred: number;
  /** Already in the target (not an error, as in Python). */
  alreadyPresent: number;
  /** Not (entirely) in the source, skipped because ignoreComponentNotInLocation/ignoreLocationErrors. */
  missing: number;
  /** Failures skipped because of ignoreLocationErrors. */
  failed: { component: FtrackEntity; error: unknown }[];
}

export interface TransferOptions {
  source: Location;
  target: Location;
  components: FtrackEntity[];
  ignoreComponentNotInLocation?: boolean;
  ignoreLocationErrors?: boolean;
  /** Called before each component (1-based index). */
  onComponent?: (index: number, count: number, component: FtrackEntity) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Transfers `components` one by one, with the Python action's error rules. */
export async function transferComponents(options: TransferOptions): Promise<TransferResult> {
  const { source, target, components } = options;
  const result: TransferResult = { total: components.length, transferred: 0, alreadyPresent: 0, missing: 0, failed: [] };
  for (const [i, component] of components.entries()) {
    if (options.signal?.aborted) throw new LocationError("LOCATION_ABORTED", "the transfer was aborted");
    await options.onComponent?.(i + 1, components.length, component);
    try {
      await target.addComponent(component, source, { signal: options.signal });
      result.transferred++;
    } catch (e) {
      if (e instanceof LocationError && e.code === "LOCATION_COMPONENT_IN_LOCATION") result.alreadyPresent++;
      else if (e instanceof LocationError && e.code === "LOCATION_COMPONENT_NOT_IN_LOCATION" && (options.ignoreComponentNotInLocation || options.ignoreLocationErrors)) result.missing++;
      else if (e instanceof LocationError && options.ignoreLocationErrors && e.code !== "LOCATION_ABORTED") result.failed.push({ component, error: e });
      else throw e;
    }
  }
  return result;
}

/** A one-line summary of a transfer for a Job description or an action message. */
export function describeResult(result: TransferResult, source: string, target: string): string {
  const extra = [
    result.alreadyPresent ? `${result.alreadyPresent} already there` : "",
    result.missing ? `${result.missing} missing in ${source}` : "",
    result.failed.length ? `${result.failed.length} failed` : "",
  ].filter(Boolean);
  return `Transferred ${result.transferred} of ${result.total} component(s) from ${source} to ${target}${extra.length ? ` (${extra.join(", ")})` : ""}`;
}
