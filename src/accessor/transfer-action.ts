/**
 * The transfer-components action: the TypeScript counterpart of ftrack's Python
 * "Transfer component(s)" action (identifier `transfer-components`). For selected projects,
 * contexts, versions or components, ftrack's action menu offers it; launching shows a form to
 * pick the source and target locations and two "ignore" switches; submitting starts the
 * transfer as an ftrack Job whose status (running → done / failed) and description
 * ("Transfer components (3 of 10)", then the result) report progress.
 *
 *     const action = createTransferAction({ session, locations: [sftpLocation, diskLocation] });
 *     const stop = action.register();          // subscribes on session.eventHub
 *
 * Only locations passed in (configured with accessors in this process) are offered. The same
 * transfer is callable from code: `runTransferJob(...)`, or `transferComponents(...)` without
 * a Job. @ftrack/api's EventHub publishes a handler's non-null return value as the reply.
 */
import { query } from "./component-tree.js";
import { quote, type EventHubLike, type FtrackEntity, type FtrackEvent, type SessionLike } from "./ftrack.js";
import type { Location } from "./location.js";
import {
  componentQueries, describeResult, EXCLUDED_LOCATIONS, isValidSelection, parseTransferValues, TRANSFER_ACTION_IDENTIFIER,
  TRANSFER_ACTION_LABEL, transferComponents, transferForm, translateSelection, type SelectedEntity, type TransferResult,
} from "./transfer-logic.js";

export * from "./transfer-logic.js";

/** The components under `entities` present in location `sourceId`, without duplicates. */
export async function findComponents(session: Pick<SessionLike, "query">, entities: readonly SelectedEntity[], sourceId: string): Promise<FtrackEntity[]> {
  const byId = new Map<string, FtrackEntity>();
  for (const q of componentQueries(entities, sourceId)) {
    for (const c of await query(session, q)) if (typeof c.id === "string" && !byId.has(c.id)) byId.set(c.id, c);
  }
  return [...byId.values()];
}

export interface TransferJobOptions {
  session: SessionLike;
  source: Location;
  target: Location;
  entities: readonly SelectedEntity[];
  /** The user the Job belongs to (default: the user named `username`, else the API user). */
  userId?: string;
  username?: string;
  ignoreComponentNotInLocation?: boolean;
  ignoreLocationErrors?: boolean;
  signal?: AbortSignal;
}

export interface TransferJobResult {
  jobId: string | undefined;
  status: "done" | "failed";
  description: string;
  result?: TransferResult;
  error?: unknown;
}

async function findUserId(session: SessionLike, username: string | undefined): Promise<string | undefined> {
  const name = username ?? session.apiUser;
  if (!name) return undefined;
  const rows = await query(session, `select id from User where username is ${quote(name)}`).catch(() => []);
  return typeof rows[0]?.id === "string" ? rows[0].id : undefined;
}

/** Runs a transfer as an ftrack Job; never throws — the outcome is the Job's status. */
export async function runTransferJob(options: TransferJobOptions): Promise<TransferJobResult> {
  const { session, source, target } = options;
  const userId = options.userId ?? (await findUserId(session, options.username));
  const data = (description: string) => JSON.stringify({ description });
  let jobId: string | undefined;
  try {
    const job = (await session.create("Job", { ...(userId ? { user_id: userId } : {}), status: "running", data: data("Transfer components (Gathering...)") })).data;
    jobId = typeof job.id === "string" ? job.id : undefined;
  } catch {
    jobId = undefined; // The transfer still runs; it just cannot be followed in ftrack.
  }
  const update = async (values: Record<string, unknown>) => {
    if (jobId) await session.update("Job", [jobId], values).catch(() => {});
  };
  try {
    const components = await findComponents(session, options.entities, source.id);
    const result = await transferComponents({
      source, target, components,
      ignoreComponentNotInLocation: options.ignoreComponentNotInLocation,
      ignoreLocationErrors: options.ignoreLocationErrors,
      signal: options.signal,
      onComponent: (i, n) => update({ data: data(`Transfer components (${i} of ${n})`) }),
    });
    const description = describeResult(result, source.name, target.name);
    await update({ status: "done", data: data(description) });
    return { jobId, status: "done", description, result };
  } catch (e) {
    const description = `Transfer from ${source.name} to ${target.name} failed: ${(e as Error)?.message ?? e}`;
    await update({ status: "failed", data: data(description) });
    return { jobId, status: "failed", description, error: e };
  }
}

export interface TransferActionOptions {
  session: SessionLike;
  /** The locations that may be picked, each with its accessor and structure configured. */
  locations: Location[];
  identifier?: string;
  label?: string;
  description?: string;
  /** Location names left out of the form (default: ftrack.origin, ftrack.connect, as Python). */
  excluded?: string[];
  /** Schemas to resolve selection aliases (default: `session.schemas` when present). */
  schemas?: { id: string; alias_for?: unknown }[];
}

export interface TransferAction {
  readonly identifier: string;
  /** `ftrack.action.discover` handler: the action item, or null when the selection does not fit. */
  discover(event: FtrackEvent): Record<string, unknown> | null;
  /** `ftrack.action.launch` handler: the form, then `{ success, message }` once submitted. */
  launch(event: FtrackEvent): Promise<Record<string, unknown> | null>;
  /** Subscribes both handlers on `hub` (default `session.eventHub`); returns an unsubscriber. */
  register(hub?: EventHubLike): () => void;
  /** Resolves when every transfer started by `launch` has finished. */
  whenIdle(): Promise<TransferJobResult[]>;
}

export function createTransferAction(options: TransferActionOptions): TransferAction {
  const { session, locations } = options;
  const identifier = options.identifier ?? TRANSFER_ACTION_IDENTIFIER;
  const label = options.label ?? TRANSFER_ACTION_LABEL;
  const schemas = () => options.schemas ?? ((session as { schemas?: { id: string; alias_for?: unknown }[] }).schemas ?? []);
  const running = new Set<Promise<TransferJobResult>>();
  const finished: TransferJobResult[] = [];
  const selection = (event: FtrackEvent) => translateSelection(event.data?.selection, schemas());

  const action: TransferAction = {
    identifier,
    discover(event) {
      if (!isValidSelection(selection(event))) return null;
      return { items: [{ label, description: options.description ?? "Transfer component(s) between locations.", actionIdentifier: identifier }] };
    },
    async launch(event) {
      if (event.data?.actionIdentifier !== identifier) return null;
      const entities = selection(event);
      if (!isValidSelection(entities)) return { success: false, message: "Select projects, folders, shots, tasks, versions or components." };
      const values = event.data.values;
      if (!values || typeof values !== "object" || Object.keys(values).length === 0) {
        const choices = locations.map((l) => ({ id: l.id, name: l.name, label: typeof l.entity.label === "string" ? l.entity.label : undefined, priority: l.priority }));
        return { type: "form", title: label, submit_button_label: "Transfer", items: transferForm(choices, options.excluded ?? EXCLUDED_LOCATIONS) };
      }
      const parsed = parseTransferValues(values);
      if ("error" in parsed) return { success: false, message: parsed.error };
      const source = locations.find((l) => l.id === parsed.sourceId);
      const target = locations.find((l) => l.id === parsed.targetId);
      if (!source || !target) return { success: false, message: "That location is not configured for this action." };
      const job = runTransferJob({
        session, source, target, entities,
        userId: event.source?.user?.id, username: event.source?.user?.username,
        ignoreComponentNotInLocation: parsed.ignoreComponentNotInLocation,
        ignoreLocationErrors: parsed.ignoreLocationErrors,
      });
      running.add(job);
      void job.then((r) => {
        running.delete(job);
        finished.push(r);
      });
      return { success: true, message: `Transferring components from ${source.name} to ${target.name}; follow the job for progress.` };
    },
    register(hub = session.eventHub) {
      if (!hub) throw new TypeError("the session has no eventHub to subscribe on");
      const ids = [
        hub.subscribe("topic=ftrack.action.discover", (e) => action.discover(e)),
        hub.subscribe("topic=ftrack.action.launch", (e) => action.launch(e)),
      ];
      return () => ids.forEach((id) => hub.unsubscribe(id));
    },
    async whenIdle() {
      while (running.size) await Promise.all([...running]);
      return finished.splice(0);
    },
  };
  return action;
}
