/**
 * StandardStructure: the resource identifiers ftrack's Python
 * `ftrack_api.structure.standard.StandardStructure` produces, for the same entities:
 *
 *     project/folder_a/folder_b/asset/v003/foo.jpg          FileComponent "foo", ".jpg"
 *     project/folder_a/folder_b/asset/v003/foo.%04d.jpg     SequenceComponent "foo", padding 4
 *     project/folder_a/folder_b/asset/v003/foo.0042.jpg     its member "0042"
 *     project/folder_a/folder_b/asset/v003/bar              ContainerComponent "bar"
 *     project/folder_a/folder_b/asset/v003/bar/baz.pdf      its member "baz", ".pdf"
 *
 * The parts are the project's `name`, the names of `version.link[1:-1]` (the contexts between
 * the project and the version; or `projectVersionsPrefix` when there are none), the asset's
 * name and `v` + the version number padded to three digits. Each part and each file name is
 * sanitised: NFKD, non-ASCII dropped, every character outside `[A-Za-z0-9_.-]` replaced by
 * `illegalCharacterSubstitute` ("_"), trimmed and lower-cased — or left alone entirely when
 * the substitute is null.
 *
 * Attributes read (load them in your query, or pass a session to load what is missing):
 * the component's `name`, `file_type`, `container` (and `padding` for a SequenceComponent);
 * `version` (or `version_id`), `version.version`, `version.link`, `version.asset.name`; the
 * project's `name` from `version.project`, `version.asset.project`, or — as Python does — the
 * Project whose id is `version.link[0].id`.
 */
import { SshError } from "../errors.js";
import { describeEntity, entityType, quote, type FtrackEntity, type QuerySession } from "./ftrack.js";
import { sequenceExpression } from "./sequence.js";

export type StructureErrorCode =
  /** An attribute is not loaded and there is no session to load it. */
  | "STRUCTURE_MISSING_ATTRIBUTE"
  /** An attribute has a value the structure cannot use (e.g. a non-integer version). */
  | "STRUCTURE_INVALID_ATTRIBUTE"
  /** The component is not attached to a version with a context (Python's StructureError). */
  | "STRUCTURE_NO_VERSION"
  /** Not a FileComponent, SequenceComponent or ContainerComponent (Python: NotImplementedError). */
  | "STRUCTURE_UNSUPPORTED_ENTITY"
  /** Loading an attribute through the session failed. */
  | "STRUCTURE_QUERY_FAILED";

export class StructureError extends SshError {
  declare readonly code: StructureErrorCode;
  /** The attribute path involved, relative to the entity passed in (e.g. "version.link"). */
  readonly attribute: string | undefined;
  constructor(code: StructureErrorCode, message: string, attribute?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.attribute = attribute;
  }
}

export interface StandardStructureOptions {
  /** Inserted after the project name for versions published directly under the project. */
  projectVersionsPrefix?: string | null;
  /** Replacement for illegal characters (default "_"); null = no sanitising at all. */
  illegalCharacterSubstitute?: string | null;
  /** Loads attributes the entities passed in lack (an @ftrack/api Session). */
  session?: QuerySession;
}

/** Python's `getResourceIdentifier(entity, context)` context; `session` may be given per call. */
export interface StructureContext {
  session?: QuerySession;
  sourceResourceIdentifier?: string;
  [key: string]: unknown;
}

// Python's str.strip() whitespace (str.isspace), which differs from String.prototype.trim.
const PY_STRIP = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

export class StandardStructure {
  readonly pathSeparator = "/";
  readonly projectVersionsPrefix: string | null;
  readonly illegalCharacterSubstitute: string | null;
  private readonly session: QuerySession | undefined;
  /** Attributes loaded through the session, per entity object (entities are never mutated). */
  private readonly loaded = new WeakMap<object, Map<string, unknown>>();

  constructor(options: StandardStructureOptions = {}) {
    this.projectVersionsPrefix = options.projectVersionsPrefix ?? null;
    this.illegalCharacterSubstitute = options.illegalCharacterSubstitute === undefined ? "_" : options.illegalCharacterSubstitute;
    this.session = options.session;
  }

  /**
   * Python's `sanitise_for_filesystem`: NFKD, drop non-ASCII, replace `[^\w.-]` with the
   * substitute, strip, lower-case. Returns `value` unchanged when the substitute is null.
   */
  sanitiseForFilesystem(value: unknown): string {
    if (this.illegalCharacterSubstitute === null) return String(value);
    const substitute = this.illegalCharacterSubstitute;
    const ascii = String(value).normalize("NFKD").replace(/[^\x00-\x7f]/g, "");
    return ascii.replace(/[^A-Za-z0-9_.-]/g, () => substitute).replace(PY_STRIP, "").toLowerCase();
  }

  /** The resource identifier of a FileComponent, SequenceComponent or ContainerComponent. */
  async getResourceIdentifier(entity: FtrackEntity, context: StructureContext = {}): Promise<string> {
    const session = context.session ?? this.session;
    return (await this.identifierParts(entity, session, "")).join(this.pathSeparator);
  }

  private async identifierParts(entity: FtrackEntity, session: QuerySession | undefined, path: string): Promise<string[]> {
    const type = entityType(entity);
    if (type === "FileComponent") {
      await this.ensure(entity, ["name", "file_type", "container"], session, path, this.versionIfUnknown(entity));
      const container = this.value(entity, "container") as FtrackEntity | null;
      const name = this.text(entity, "name", path);
      const fileType = this.text(entity, "file_type", path, true);
      if (container) {
        const containerPath = this.join(path, "container");
        const containerParts = await this.identifierParts(container, session, containerPath);
        if (entityType(container) === "SequenceComponent") {
          // The member sits beside the sequence expression: <dir>/<sequence name>.<index><ext>.
          const containerName = this.text(container, "name", containerPath);
          return [posixDirname(containerParts.join(this.pathSeparator)), this.sanitiseForFilesystem(`${containerName}.${name}${fileType}`)];
        }
        return [...containerParts, this.sanitiseForFilesystem(name + fileType)];
      }
      return [...(await this.versionParts(entity, session, path)), this.sanitiseForFilesystem(name + fileType)];
    }
    if (type === "SequenceComponent") {
      await this.ensure(entity, ["name", "file_type", "padding"], session, path, this.versionIfUnknown(entity));
      const name = this.text(entity, "name", path);
      const fileType = this.text(entity, "file_type", path, true);
      const padding = this.value(entity, "padding");
      if (padding !== null && padding !== undefined && (typeof padding !== "number" || !Number.isInteger(padding) || padding < 0)) {
        throw new StructureError("STRUCTURE_INVALID_ATTRIBUTE", `${describeEntity(entity)}: padding must be a non-negative integer, got ${JSON.stringify(padding)}`, this.join(path, "padding"));
      }
      const parts = await this.versionParts(entity, session, path);
      return [...parts, `${this.sanitiseForFilesystem(name)}.${sequenceExpression(padding as number | null)}${this.sanitiseForFilesystem(fileType)}`];
    }
    if (type === "ContainerComponent") {
      await this.ensure(entity, ["name"], session, path, this.versionIfUnknown(entity));
      return [...(await this.versionParts(entity, session, path)), this.sanitiseForFilesystem(this.text(entity, "name", path))];
    }
    throw new StructureError("STRUCTURE_UNSUPPORTED_ENTITY",
      `cannot generate a resource identifier for unsupported entity ${describeEntity(entity)}: ` +
      "StandardStructure handles FileComponent, SequenceComponent and ContainerComponent", path || undefined);
  }

  /** ["version"] when neither `version` nor `version_id` is known, to load it with the rest. */
  private versionIfUnknown(entity: FtrackEntity): string[] {
    return this.value(entity, "version") === undefined && entity.version_id === undefined ? ["version"] : [];
  }

  /** Python's `_get_parts`: project, contexts (or prefix), asset, version — sanitised. */
  private async versionParts(component: FtrackEntity, session: QuerySession | undefined, path: string): Promise<string[]> {
    const versionPath = this.join(path, "version");
    if (this.value(component, "version") === undefined) {
      const versionId = component.version_id;
      if (typeof versionId === "string" && versionId !== "") {
        this.remember(component, "version", { __entity_type__: "AssetVersion", id: versionId });
      } else if (versionId === undefined) {
        await this.ensure(component, ["version"], session, path);
      }
    }
    const version = this.value(component, "version") as FtrackEntity | null | undefined;
    if (!version) {
      throw new StructureError("STRUCTURE_NO_VERSION",
        `${describeEntity(component)} must be attached to a committed version and a committed asset with a parent context`, versionPath);
    }
    await this.ensure(version, ["version", "link", "asset"], session, versionPath);
    const link = this.value(version, "link");
    if (!Array.isArray(link) || link.length === 0) {
      throw new StructureError("STRUCTURE_NO_VERSION",
        `${describeEntity(component)} must be attached to a committed version and a committed asset with a parent context (version.link is empty)`, this.join(versionPath, "link"));
    }
    const asset = this.value(version, "asset") as FtrackEntity | null;
    if (!asset) throw new StructureError("STRUCTURE_NO_VERSION", `${describeEntity(version)} has no asset`, this.join(versionPath, "asset"));
    const assetPath = this.join(versionPath, "asset");
    await this.ensure(asset, ["name"], session, assetPath);

    const names = link.slice(1, -1).map((item, i) => {
      const name = (item as FtrackEntity | null)?.name;
      if (typeof name !== "string") {
        throw new StructureError("STRUCTURE_INVALID_ATTRIBUTE", `version.link[${i + 1}] has no name`, this.join(versionPath, "link"));
      }
      return name;
    });
    const number = this.value(version, "version");
    if (typeof number !== "number" || !Number.isInteger(number)) {
      throw new StructureError("STRUCTURE_INVALID_ATTRIBUTE", `${describeEntity(version)}: version must be an integer, got ${JSON.stringify(number)}`, this.join(versionPath, "version"));
    }
    const parts = [await this.projectName(version, link[0] as FtrackEntity, session, versionPath)];
    if (names.length) parts.push(...names);
    else if (this.projectVersionsPrefix) parts.push(this.projectVersionsPrefix);
    parts.push(this.text(asset, "name", assetPath), formatVersion(number));
    return parts.map((p) => this.sanitiseForFilesystem(p));
  }

  private async projectName(version: FtrackEntity, first: FtrackEntity, session: QuerySession | undefined, versionPath: string): Promise<string> {
    const asset = this.value(version, "asset") as FtrackEntity | undefined;
    for (const project of [this.value(version, "project"), asset ? this.value(asset, "project") : undefined]) {
      const name = (project as FtrackEntity | null | undefined)?.name;
      if (typeof name === "string") return name;
    }
    const projectId = first?.id;
    if (session && typeof projectId === "string") {
      const row = (await this.query(session, `select name from Project where id is ${quote(projectId)}`, versionPath))[0];
      if (typeof row?.name === "string") return row.name;
      throw new StructureError("STRUCTURE_NO_VERSION", `the project ${projectId} of ${describeEntity(version)} was not found`, this.join(versionPath, "link"));
    }
    throw new StructureError("STRUCTURE_MISSING_ATTRIBUTE",
      `the project name of ${describeEntity(version)} is not loaded: select ${this.join(versionPath, "asset.project.name")} ` +
      "(or version.project.name) in your query, or give StandardStructure a session", this.join(versionPath, "project.name"));
  }

  // --- attribute access ----------------------------------------------------------------------

  private value(entity: FtrackEntity, name: string): unknown {
    const own = entity[name];
    if (own !== undefined) return own;
    return this.loaded.get(entity)?.get(name);
  }

  private remember(entity: FtrackEntity, name: string, value: unknown): void {
    let m = this.loaded.get(entity);
    if (!m) this.loaded.set(entity, (m = new Map()));
    m.set(name, value);
  }

  private text(entity: FtrackEntity, name: string, path: string, nullIsEmpty = false): string {
    const v = this.value(entity, name);
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    if (v === null && nullIsEmpty) return "";
    throw new StructureError("STRUCTURE_INVALID_ATTRIBUTE", `${describeEntity(entity)}: ${name} must be a string, got ${JSON.stringify(v)}`, this.join(path, name));
  }

  /**
   * Loads the attributes of `entity` that are missing, in one query, or names the first one.
   * `alsoLoad` are fetched in the same query when one is made anyway.
   */
  private async ensure(entity: FtrackEntity, names: string[], session: QuerySession | undefined, path: string, alsoLoad: string[] = []): Promise<void> {
    const missing = names.filter((n) => this.value(entity, n) === undefined && !(n === "container" && entity.container_id === null));
    if (entity.container_id === null && names.includes("container") && this.value(entity, "container") === undefined) this.remember(entity, "container", null);
    if (missing.length === 0) return;
    const type = entityType(entity);
    if (!session || !type || typeof entity.id !== "string") {
      const why = !session
        ? "select it in your query or give StandardStructure (or the context) a session to load it"
        : "it cannot be loaded because the entity has no id or __entity_type__";
      throw new StructureError("STRUCTURE_MISSING_ATTRIBUTE",
        `${describeEntity(entity)}: attribute ${JSON.stringify(this.join(path, missing[0]!))} is not loaded; ${why}`, this.join(path, missing[0]!));
    }
    missing.push(...alsoLoad.filter((n) => !missing.includes(n)));
    const row = (await this.query(session, `select ${missing.join(", ")} from ${type} where id is ${quote(entity.id)}`, path))[0];
    if (!row) throw new StructureError("STRUCTURE_NO_VERSION", `${describeEntity(entity)} was not found on the server (is it committed?)`, path || undefined);
    for (const n of missing) this.remember(entity, n, row[n] === undefined ? null : row[n]);
  }

  private async query(session: QuerySession, expression: string, path: string): Promise<FtrackEntity[]> {
    try {
      return (await session.query(expression)).data;
    } catch (e) {
      throw new StructureError("STRUCTURE_QUERY_FAILED", `loading ${path || "the component"} failed (${expression}): ${(e as Error)?.message ?? e}`, path || undefined, { cause: e });
    }
  }

  private join(path: string, name: string): string {
    return path === "" ? name : `${path}.${name}`;
  }
}

/** Python's `posixpath.dirname`. */
export function posixDirname(path: string): string {
  const i = path.lastIndexOf("/") + 1;
  const head = path.slice(0, i);
  return head && !/^\/+$/.test(head) ? head.replace(/\/+$/, "") : head;
}

/** Python's `"v{0:03d}".format(number)`: width 3 including the sign. */
export function formatVersion(number: number): string {
  return number < 0 ? `v-${String(-number).padStart(2, "0")}` : `v${String(number).padStart(3, "0")}`;
}
