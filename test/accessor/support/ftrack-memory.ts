/**
 * An in-memory ftrack server model for tests: the entity types the accessor layer touches,
 * their attributes and relations, polymorphic types (querying Component returns
 * FileComponent, SequenceComponent…), computed `link` / `ancestors`, and the JSON API
 * operations (query, create, update, delete, query_schemas, query_server_information) with
 * results shaped as the real server returns them. Unknown types and attributes are errors,
 * as on the real server, so a query the real server would reject fails here too.
 *
 * Failure injection: `failNext(action, type)` makes the next matching operation fail.
 */
import { parseQuery, type Expr, type Value } from "./ftrack-query.js";

export type Row = { __entity_type__: string; id: string; [key: string]: unknown };

type Relation =
  | { kind: "one"; key: string; type: string }
  | { kind: "many"; foreignKey: string; type: string }
  | { kind: "computed"; get: (row: Row, m: FtrackMemory) => Row | Row[] | null };

interface TypeSchema {
  attributes: string[];
  relations: Record<string, Relation>;
  parents: string[];
}

const CONTEXT_REL: Record<string, Relation> = {
  parent: { kind: "one", key: "parent_id", type: "Context" },
  project: { kind: "one", key: "project_id", type: "Project" },
  ancestors: { kind: "computed", get: (r, m) => m.ancestors(r) },
  link: { kind: "computed", get: (r, m) => m.link(r) as never },
  children: { kind: "many", foreignKey: "parent_id", type: "TypedContext" },
  assets: { kind: "many", foreignKey: "context_id", type: "Asset" },
};
const COMPONENT_REL: Record<string, Relation> = {
  version: { kind: "one", key: "version_id", type: "AssetVersion" },
  container: { kind: "one", key: "container_id", type: "Component" },
  component_locations: { kind: "many", foreignKey: "component_id", type: "ComponentLocation" },
};
const MEMBERS: Relation = { kind: "many", foreignKey: "container_id", type: "Component" };
const COMPONENT_ATTRS = ["id", "name", "file_type", "size", "version_id", "container_id", "system_type"];

export const SCHEMA: Record<string, TypeSchema> = {
  Context: { attributes: ["id", "name"], relations: {}, parents: [] },
  TypedContext: { attributes: ["id", "name", "parent_id", "project_id", "object_type"], relations: CONTEXT_REL, parents: ["Context"] },
  Project: { attributes: ["id", "name", "full_name"], relations: { ...CONTEXT_REL, parent: { kind: "computed", get: () => null }, project: { kind: "computed", get: (r) => r } }, parents: ["Context"] },
  Folder: { attributes: ["id", "name", "parent_id", "project_id"], relations: CONTEXT_REL, parents: ["TypedContext", "Context"] },
  Sequence: { attributes: ["id", "name", "parent_id", "project_id"], relations: CONTEXT_REL, parents: ["TypedContext", "Context"] },
  Shot: { attributes: ["id", "name", "parent_id", "project_id"], relations: CONTEXT_REL, parents: ["TypedContext", "Context"] },
  Task: { attributes: ["id", "name", "parent_id", "project_id"], relations: CONTEXT_REL, parents: ["TypedContext", "Context"] },
  Asset: { attributes: ["id", "name", "context_id"], relations: { parent: { kind: "one", key: "context_id", type: "Context" }, versions: { kind: "many", foreignKey: "asset_id", type: "AssetVersion" } }, parents: [] },
  AssetVersion: {
    attributes: ["id", "version", "asset_id", "comment"],
    relations: {
      asset: { kind: "one", key: "asset_id", type: "Asset" },
      components: { kind: "many", foreignKey: "version_id", type: "Component" },
      link: { kind: "computed", get: (r, m) => m.link(r) as never },
    },
    parents: [],
  },
  Component: { attributes: COMPONENT_ATTRS, relations: COMPONENT_REL, parents: [] },
  FileComponent: { attributes: COMPONENT_ATTRS, relations: COMPONENT_REL, parents: ["Component"] },
  ContainerComponent: { attributes: COMPONENT_ATTRS, relations: { ...COMPONENT_REL, members: MEMBERS }, parents: ["Component"] },
  SequenceComponent: { attributes: [...COMPONENT_ATTRS, "padding"], relations: { ...COMPONENT_REL, members: MEMBERS }, parents: ["ContainerComponent", "Component"] },
  ComponentLocation: {
    attributes: ["id", "component_id", "location_id", "resource_identifier"],
    relations: { component: { kind: "one", key: "component_id", type: "Component" }, location: { kind: "one", key: "location_id", type: "Location" } },
    parents: [],
  },
  Location: { attributes: ["id", "name", "label", "description"], relations: {}, parents: [] },
  Job: { attributes: ["id", "status", "data", "user_id", "type"], relations: { user: { kind: "one", key: "user_id", type: "User" } }, parents: [] },
  User: { attributes: ["id", "username"], relations: {}, parents: [] },
};

export class FtrackError extends Error {
  constructor(readonly exception: string, message: string) {
    super(message);
  }
}

let counter = 0;
export function uuid(): string {
  counter++;
  const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");
  return `${hex(0xa0000000 + counter, 8)}-0000-4000-8000-${hex(counter, 12)}`;
}

export class FtrackMemory {
  readonly rows = new Map<string, Row>();
  /** Every operation received, for assertions. */
  readonly log: { action: string; type?: string; expression?: string }[] = [];
  private failures: { action: string; type: string; message: string }[] = [];

  isA(type: string, wanted: string): boolean {
    return type === wanted || (SCHEMA[type]?.parents ?? []).includes(wanted);
  }

  add(type: string, data: Record<string, unknown>): Row {
    const schema = SCHEMA[type];
    if (!schema || type === "Component" || type === "Context" || type === "TypedContext") throw new FtrackError("ValidationError", `cannot create ${type}`);
    for (const key of Object.keys(data)) {
      if (key !== "__entity_type__" && !schema.attributes.includes(key)) throw new FtrackError("ValidationError", `${type} has no attribute ${key}`);
    }
    const row: Row = { ...Object.fromEntries(schema.attributes.map((a) => [a, null])), ...data, __entity_type__: type, id: String(data.id ?? uuid()) };
    if (this.rows.has(row.id)) throw new FtrackError("IntegrityError", `duplicate id ${row.id}`);
    for (const [name, rel] of Object.entries(schema.relations)) {
      if (rel.kind === "one" && row[rel.key] != null && !this.rows.has(String(row[rel.key]))) {
        throw new FtrackError("ValidationError", `${type}.${name}: no ${rel.type} with id ${String(row[rel.key])}`);
      }
    }
    this.rows.set(row.id, row);
    return row;
  }

  failNext(action: string, type: string, message = "injected failure"): void {
    this.failures.push({ action, type, message });
  }

  private checkFailure(action: string, type: string): void {
    const i = this.failures.findIndex((f) => f.action === action && this.isA(type, f.type));
    if (i >= 0) throw new FtrackError("ServerError", this.failures.splice(i, 1)[0]!.message);
  }

  // --- computed relations ---------------------------------------------------------------------

  ancestors(row: Row): Row[] {
    const out: Row[] = [];
    for (let p = this.rows.get(String(row.parent_id)); p; p = this.rows.get(String(p.parent_id))) out.unshift(p);
    return out;
  }

  /** `link`: project first (named by full_name, as ftrack does), contexts, then the entity itself. */
  link(row: Row): { id: string; name: string; type: string }[] {
    const item = (r: Row) => ({ id: r.id, name: String(r.__entity_type__ === "Project" ? r.full_name ?? r.name : r.name), type: this.isA(r.__entity_type__, "TypedContext") ? "TypedContext" : r.__entity_type__ });
    if (row.__entity_type__ === "AssetVersion") {
      const asset = this.rows.get(String(row.asset_id));
      const context = asset ? this.rows.get(String(asset.context_id)) : undefined;
      return [...(context ? this.link(context) : []), { id: row.id, name: `${String(asset?.name)} v${String(row.version)}`, type: "AssetVersion" }];
    }
    return [...this.ancestors(row), row].map(item);
  }

  // --- paths ----------------------------------------------------------------------------------

  private relation(row: Row, name: string): Relation | undefined {
    return SCHEMA[row.__entity_type__]?.relations[name];
  }

  private follow(row: Row, name: string): unknown {
    const rel = this.relation(row, name);
    if (!rel) {
      if (!SCHEMA[row.__entity_type__]?.attributes.includes(name)) throw new FtrackError("ServerError", `${row.__entity_type__} has no attribute ${name}`);
      return row[name];
    }
    if (rel.kind === "one") return row[rel.key] == null ? null : this.rows.get(String(row[rel.key])) ?? null;
    if (rel.kind === "many") return [...this.rows.values()].filter((r) => this.isA(r.__entity_type__, rel.type) && r[rel.foreignKey] === row.id);
    return rel.get(row, this);
  }

  /** All values at `path` from `row` (collections fan out). */
  private values(row: Row, path: string[]): unknown[] {
    let current: unknown[] = [row];
    for (const name of path) {
      const next: unknown[] = [];
      for (const v of current) {
        if (v == null || typeof v !== "object") continue;
        const r = v as Row;
        const got = r.__entity_type__ ? this.follow(r, name) : (r as Record<string, unknown>)[name];
        if (Array.isArray(got)) next.push(...got);
        else next.push(got);
      }
      current = next;
    }
    return current;
  }

  private matches(row: Row, e: Expr): boolean {
    if (e.kind === "and") return this.matches(row, e.left) && this.matches(row, e.right);
    if (e.kind === "or") return this.matches(row, e.left) || this.matches(row, e.right);
    if (e.kind === "not") return !this.matches(row, e.expr);
    const vals = this.values(row, e.path);
    const eq = (a: unknown, b: Value) => (b === null ? a == null : a === b);
    const list = Array.isArray(e.value) ? e.value : [e.value];
    switch (e.op) {
      case "is": case "=": return vals.length === 0 ? e.value === null : vals.some((v) => eq(v, e.value));
      case "is_not": case "!=": return !vals.some((v) => eq(v, e.value));
      case "in": return vals.some((v) => list.some((x) => eq(v, x)));
      case "not_in": return !vals.some((v) => list.some((x) => eq(v, x)));
      case "like": case "not_like": {
        const re = new RegExp(`^${String(e.value).replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%/g, ".*")}$`, "i");
        const hit = vals.some((v) => typeof v === "string" && re.test(v));
        return e.op === "like" ? hit : !hit;
      }
      default: {
        const cmp = (v: unknown) => (e.op === "<" ? (v as number) < (e.value as number) : e.op === ">" ? (v as number) > (e.value as number) : e.op === "<=" ? (v as number) <= (e.value as number) : (v as number) >= (e.value as number));
        return vals.some(cmp);
      }
    }
  }

  /** An entity as the server returns it: type, id and the selected (or all scalar) attributes. */
  private project(row: Row, select: string[][] | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = { __entity_type__: row.__entity_type__, id: row.id };
    if (!select) {
      for (const a of SCHEMA[row.__entity_type__]!.attributes) out[a] = row[a] ?? null;
      return out;
    }
    const groups = new Map<string, string[][]>();
    for (const path of select) groups.set(path[0]!, [...(groups.get(path[0]!) ?? []), path.slice(1)]);
    for (const [name, rests] of groups) {
      const v = this.follow(row, name);
      const sub = rests.filter((r) => r.length > 0);
      const shape = (x: unknown): unknown =>
        x && typeof x === "object" && (x as Row).__entity_type__ ? this.project(x as Row, sub.length ? sub : []) : x;
      out[name] = Array.isArray(v) ? v.map(shape) : v === undefined ? null : shape(v);
    }
    return out;
  }

  // --- operations -----------------------------------------------------------------------------

  query(expression: string): { action: "query"; data: Record<string, unknown>[]; metadata: { next: { offset: number | null } } } {
    const q = parseQuery(expression);
    this.log.push({ action: "query", type: q.type, expression });
    if (!SCHEMA[q.type]) throw new FtrackError("ServerError", `unknown entity type ${q.type}`);
    let rows = [...this.rows.values()].filter((r) => this.isA(r.__entity_type__, q.type) && (!q.where || this.matches(r, q.where)));
    if (q.orderBy) {
      const key = (r: Row) => this.values(r, q.orderBy!.path)[0] as string | number;
      rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (q.orderBy!.desc ? -1 : 1));
    }
    rows = rows.slice(q.offset ?? 0, q.limit === undefined ? undefined : (q.offset ?? 0) + q.limit);
    return { action: "query", data: rows.map((r) => this.project(r, q.select)), metadata: { next: { offset: null } } };
  }

  create(type: string, data: Record<string, unknown>): { action: "create"; data: Record<string, unknown> } {
    this.log.push({ action: "create", type });
    this.checkFailure("create", type);
    const clean = Object.fromEntries(Object.entries(data).filter(([k]) => k !== "__entity_type__"));
    return { action: "create", data: this.project(this.add(type, clean), undefined) };
  }

  update(type: string, keys: string[] | string, data: Record<string, unknown>): { action: "update"; data: Record<string, unknown> } {
    this.log.push({ action: "update", type });
    this.checkFailure("update", type);
    const id = Array.isArray(keys) ? keys[0]! : keys;
    const row = this.rows.get(id);
    if (!row || !this.isA(row.__entity_type__, type)) throw new FtrackError("ServerError", `no ${type} with id ${id}`);
    for (const [k, v] of Object.entries(data)) {
      if (k === "__entity_type__") continue;
      if (!SCHEMA[row.__entity_type__]!.attributes.includes(k)) throw new FtrackError("ValidationError", `${type} has no attribute ${k}`);
      row[k] = v;
    }
    return { action: "update", data: this.project(row, undefined) };
  }

  delete(type: string, keys: string[] | string): { action: "delete"; data: true } {
    this.log.push({ action: "delete", type });
    this.checkFailure("delete", type);
    const id = Array.isArray(keys) ? keys[0]! : keys;
    const row = this.rows.get(id);
    if (!row || !this.isA(row.__entity_type__, type)) throw new FtrackError("ServerError", `no ${type} with id ${id}`);
    this.rows.delete(id);
    return { action: "delete", data: true };
  }

  schemas(): Record<string, unknown>[] {
    const alias: Record<string, string> = { Project: "Show", TypedContext: "Task" };
    return Object.keys(SCHEMA).map((id) => ({ id, primary_key: ["id"], properties: {}, ...(alias[id] ? { alias_for: alias[id] } : {}) }));
  }

  /** One JSON API operation, as the server's /api endpoint handles it. */
  handle(op: Record<string, unknown>): unknown {
    switch (op.action) {
      case "query": return this.query(String(op.expression));
      case "create": return this.create(String(op.entity_type), op.entity_data as Record<string, unknown>);
      case "update": return this.update(String(op.entity_type), op.entity_key as string[], op.entity_data as Record<string, unknown>);
      case "delete": return this.delete(String(op.entity_type), op.entity_key as string[]);
      case "query_schemas": return this.schemas();
      case "query_server_information": return { version: "4.13.0", is_timezone_support_enabled: true, schema_hash: "test" };
      default: throw new FtrackError("ServerError", `unsupported action ${String(op.action)}`);
    }
  }

  // --- fixtures -------------------------------------------------------------------------------

  /** A project with a context hierarchy, an asset and a version; returns their rows. */
  seedVersion(opts: { project?: string; fullName?: string; contexts?: [string, string][]; asset?: string; version?: number } = {}) {
    const project = this.add("Project", { name: opts.project ?? "proj", full_name: opts.fullName ?? "The Project" });
    let parent: Row = project;
    for (const [type, name] of opts.contexts ?? []) parent = this.add(type, { name, parent_id: parent.id, project_id: project.id });
    const asset = this.add("Asset", { name: opts.asset ?? "asset", context_id: parent.id });
    const version = this.add("AssetVersion", { version: opts.version ?? 1, asset_id: asset.id });
    return { project, context: parent, asset, version };
  }
}
