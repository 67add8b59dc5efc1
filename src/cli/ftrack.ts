/**
 * The ftrack commands: `ftrack upload`, `ftrack transfer`, `ftrack action`. The ftrack server
 * comes from FTRACK_SERVER / FTRACK_API_USER / FTRACK_API_KEY, the studio.sftp location's SFTP
 * server from FTRACK_SFTP_ACCESSOR_* (see the accessor's README). @ftrack/api is an optional
 * peer dependency, imported only when one of these commands runs.
 *
 * Locations are written NAME — studio.sftp (the SFTP location), ftrack.server (ftrack's own
 * storage, reached with the same API credentials) or ftrack.unmanaged (records paths, moves no
 * data) — or NAME=DIR (a location whose data is on a local disk under DIR, e.g.
 * ftrack.connect=/mnt/ftrack).
 */
import { stat as statLocal } from "node:fs/promises";
import { DiskAccessor } from "../accessor/disk-accessor.js";
import { describeEntity, quote, type FtrackEntity, type SessionLike } from "../accessor/ftrack.js";
import { Location } from "../accessor/location.js";
import { LocationError } from "../accessor/location-error.js";
import { createComponent } from "../accessor/components.js";
import { registerSftpLocation, SFTP_LOCATION_NAME } from "../accessor/plugin.js";
import type { SFTPAccessorOptions } from "../accessor/sftp-accessor.js";
import { connect } from "../connect.js";
import { SERVER_LOCATION_NAME, type ServerSessionLike } from "../accessor/server-accessor.js";
import { registerServerLocation } from "../accessor/server-location.js";
import { registerUnmanagedLocation, UNMANAGED_LOCATION_NAME } from "../accessor/unmanaged-location.js";
import { memberPath, parseSequencePath, sequenceTemplate } from "../accessor/sequence.js";
import { StandardStructure } from "../accessor/standard-structure.js";
import { createTransferAction, type TransferJobResult } from "../accessor/transfer-action.js";
import { EXCLUDED_LOCATIONS } from "../accessor/transfer-logic.js";
import { expectOperands } from "./args.js";
import { describeConnection } from "./files.js";
import type { CommandContext, CommandDef } from "./command.js";
import { CliError, EXIT, UsageError } from "./errors.js";
import { toJson, type CommandResult } from "./output.js";
import { createProgress, type FileProgress, type TransferProgress } from "./progress.js";

// --- configuration -------------------------------------------------------------------------

export interface FtrackConfig {
  server: string;
  user: string;
  key: string;
}

/** FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY; a CliError (exit 2) names the missing ones. */
export function ftrackConfig(env: Record<string, string | undefined>): FtrackConfig {
  const names = ["FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY"] as const;
  const missing = names.filter((n) => !env[n]?.trim());
  if (missing.length) {
    throw new CliError("FTRACK_CONFIGURATION", `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not set: the ftrack commands need the ftrack server URL, an API user and an API key`, EXIT.USAGE);
  }
  return { server: env.FTRACK_SERVER!.trim(), user: env.FTRACK_API_USER!.trim(), key: env.FTRACK_API_KEY!.trim() };
}

/** A session as these commands use it: the structural SessionLike plus an optional hub teardown. */
export type CliSession = SessionLike & { eventHub?: SessionLike["eventHub"] & { disconnect?(): void } };

/** Opens an @ftrack/api Session (imported on demand); `eventHub` connects its event hub too. */
export async function openFtrackSession(env: Record<string, string | undefined>, options: { eventHub?: boolean } = {}): Promise<CliSession> {
  const config = ftrackConfig(env);
  let api: typeof import("@ftrack/api");
  try {
    api = await import("@ftrack/api");
  } catch (e) {
    throw new CliError("FTRACK_API_MISSING", "the ftrack commands need the optional package @ftrack/api: npm install @ftrack/api", EXIT.GENERIC, { cause: e });
  }
  const session = new api.Session(config.server, config.user, config.key, { autoConnectEventHub: options.eventHub ?? false, decodeDatesAsIso: true });
  try {
    await session.initializing;
  } catch (e) {
    const auth = /auth|credential|api key/i.test(String((e as Error)?.message ?? e));
    throw new CliError(auth ? "FTRACK_AUTH_FAILED" : "FTRACK_CONNECTION_FAILED", `cannot reach ftrack at ${config.server}: ${(e as Error)?.message ?? e}`, auth ? EXIT.AUTH : EXIT.CONNECTION, { cause: e });
  }
  return session as unknown as CliSession;
}

// --- locations -----------------------------------------------------------------------------

export interface LocationSpec {
  name: string;
  /** NAME=DIR: a disk location under DIR. */
  prefix?: string;
}

/** `NAME` or `NAME=DIR`. */
export function parseLocationSpec(text: string, command?: string): LocationSpec {
  const eq = text.indexOf("=");
  const name = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (!name) throw new UsageError(`bad location ${JSON.stringify(text)}: write NAME or NAME=DIR`, command);
  if (eq < 0) return { name };
  const prefix = text.slice(eq + 1).trim();
  if (!prefix) throw new UsageError(`bad location ${JSON.stringify(text)}: DIR is empty`, command);
  return { name, prefix };
}

/**
 * The Location for a spec: studio.sftp from FTRACK_SFTP_ACCESSOR_*, ftrack.server with the
 * session's credentials, ftrack.unmanaged, NAME=DIR on disk.
 */
export async function openLocation(
  session: SessionLike, spec: LocationSpec, env: Record<string, string | undefined>, command?: string, sftp: Partial<SFTPAccessorOptions> = {},
): Promise<Location> {
  if (spec.prefix !== undefined) {
    return Location.ensure(session, spec.name, { accessor: new DiskAccessor({ prefix: spec.prefix }), structure: new StandardStructure({ session }) });
  }
  if (spec.name === SFTP_LOCATION_NAME) return registerSftpLocation(session, { ...sftp, env });
  // An @ftrack/api Session carries serverUrl, apiUser and apiKey; ServerAccessor checks them.
  if (spec.name === SERVER_LOCATION_NAME) return registerServerLocation(session as SessionLike & ServerSessionLike);
  if (spec.name === UNMANAGED_LOCATION_NAME) return registerUnmanagedLocation(session);
  throw new UsageError(`location ${JSON.stringify(spec.name)} has no storage this command can reach: use ${SFTP_LOCATION_NAME}, ${SERVER_LOCATION_NAME} or ${UNMANAGED_LOCATION_NAME}, or write ${spec.name}=DIR for data on a local disk`, command);
}

/** `-v`: every SFTP connection studio.sftp opens is described on stderr, as the file commands do. */
function sftpOptions(ctx: CommandContext): Partial<SFTPAccessorOptions> {
  if (!ctx.verbose) return {};
  return {
    connect: async (options) => {
      const client = await connect(options);
      ctx.stderr.write(describeConnection(client));
      return client;
    },
  };
}

/** Closes what the locations opened (SFTP connections). */
async function closeLocations(locations: Location[]): Promise<void> {
  await Promise.all(locations.map((l) => l.accessor?.close().catch(() => {})));
}

async function queryOne(session: SessionLike, expression: string, what: string): Promise<FtrackEntity> {
  const rows = (await session.query(expression)).data;
  if (!rows[0]) throw new CliError("NOT_FOUND", `${what} does not exist`, EXIT.NOT_FOUND);
  return rows[0];
}

/** A progress display fed by Location add/transfer callbacks (index, count, transferred). */
function componentProgress(display: TransferProgress, totalBytes: number) {
  const bars = new Map<number, { bar: FileProgress; total: number }>();
  let count = 0;
  return {
    onProgress(p: { component: FtrackEntity; index: number; count: number; transferred: number; total: number | undefined }) {
      if (p.count !== count) {
        count = p.count;
        display.setTotals(count, totalBytes);
      }
      let b = bars.get(p.index);
      if (!b) {
        const name = typeof p.component.name === "string" ? p.component.name : `file ${p.index}`;
        b = { bar: display.start(name, p.total ?? 0), total: p.total ?? 0 };
        bars.set(p.index, b);
      }
      b.bar.update(p.transferred);
      if (p.total !== undefined && p.transferred >= p.total) b.bar.done();
    },
    finish() {
      for (const b of bars.values()) b.bar.done();
      display.stop();
    },
  };
}

/** Local files and bytes of a path or clique sequence (for the progress totals). */
async function localTotals(path: string): Promise<{ files: number; bytes: number }> {
  const seq = parseSequencePath(path);
  const files = seq ? seq.indexes.map((i) => memberPath(sequenceTemplate(seq), i, seq.padding)) : [path];
  let bytes = 0;
  for (const f of files) bytes += (await statLocal(f).catch(() => ({ size: 0 }))).size;
  return { files: files.length, bytes };
}

// --- commands ------------------------------------------------------------------------------

const LOCATION_HELP = "NAME (studio.sftp, ftrack.server, ftrack.unmanaged) or NAME=DIR (data on a local disk under DIR)";

const upload: CommandDef = {
  name: "ftrack upload",
  summary: "create a component on a version from a file or sequence, stored in studio.sftp",
  usage: ["ftrack upload [--name NAME] [--location LOC] <version-id> <path-or-sequence>"],
  description:
    "A sequence is written in clique notation, as one argument: \"/renders/comp.%04d.exr [1001-1100]\".\n" +
    "Creates a FileComponent (or a SequenceComponent with one member per frame) on the AssetVersion\n" +
    "and copies the data into the location (default studio.sftp).",
  connects: false,
  options: [
    { name: "name", long: "name", value: true, valueName: "NAME", help: "component name (default main)" },
    { name: "location", long: "location", value: true, valueName: "LOC", help: `target location: ${LOCATION_HELP}` },
  ],
  async run(ctx) {
    const [versionId, path] = expectOperands(ctx.args, 2, 2, "ftrack upload", upload.usage[0]!);
    if (!parseSequencePath(path!)) await statLocal(path!); // a missing file is exit 3 before anything is created
    const session = await openFtrackSession(ctx.env);
    const version = await queryOne(session, `select id from AssetVersion where id is ${quote(versionId!)}`, `AssetVersion ${versionId}`);
    const location = await openLocation(session, parseLocationSpec(ctx.args.value("location") ?? SFTP_LOCATION_NAME, "ftrack upload"), ctx.env, "ftrack upload", sftpOptions(ctx));
    const totals = await localTotals(path!);
    const display = componentProgress(await createProgress({ stream: ctx.stderr, enabled: !ctx.json && !ctx.quiet, totalBytes: totals.bytes, totalFiles: totals.files }), totals.bytes);
    try {
      const component = await createComponent(session, version, path!, {
        location, name: ctx.args.value("name") ?? "main", onProgress: display.onProgress, signal: ctx.signal,
      });
      const [resourceIdentifier] = await location.getResourceIdentifiers([component]);
      const json = {
        component: { id: component.id, name: component.name, type: component.__entity_type__ },
        version: versionId,
        location: location.name,
        resourceIdentifier,
        files: totals.files,
        bytes: totals.bytes,
      };
      return { json, text: `${describeEntity(component)} in ${location.name}: ${resourceIdentifier}` };
    } finally {
      display.finish();
      await closeLocations([location]);
    }
  },
};

const transfer: CommandDef = {
  name: "ftrack transfer",
  summary: "copy components from one location to another",
  usage: ["ftrack transfer <component-id>… --from LOC --to LOC"],
  description: `LOC is ${LOCATION_HELP}. A component already in the target is reported, not an error.`,
  connects: false,
  options: [
    { name: "from", long: "from", value: true, valueName: "LOC", help: "source location" },
    { name: "to", long: "to", value: true, valueName: "LOC", help: "target location" },
  ],
  async run(ctx) {
    const ids = expectOperands(ctx.args, 1, Infinity, "ftrack transfer", transfer.usage[0]!);
    const fromText = ctx.args.value("from");
    const toText = ctx.args.value("to");
    if (fromText === undefined || toText === undefined) throw new UsageError("ftrack transfer: --from and --to are required", "ftrack transfer");
    const fromSpec = parseLocationSpec(fromText, "ftrack transfer");
    const toSpec = parseLocationSpec(toText, "ftrack transfer");
    if (fromSpec.name === toSpec.name) throw new UsageError("ftrack transfer: --from and --to name the same location", "ftrack transfer");
    const session = await openFtrackSession(ctx.env);
    const components: FtrackEntity[] = [];
    for (const id of ids) {
      components.push(await queryOne(session, `select id, name, file_type, size, version_id from Component where id is ${quote(id)}`, `Component ${id}`));
    }
    const locations: Location[] = [];
    try {
      const source = await openLocation(session, fromSpec, ctx.env, "ftrack transfer", sftpOptions(ctx));
      locations.push(source);
      const target = await openLocation(session, toSpec, ctx.env, "ftrack transfer", sftpOptions(ctx));
      locations.push(target);
      const results: { id: string; name: unknown; status: "transferred" | "already-present"; resourceIdentifiers: string[] }[] = [];
      for (const component of components) {
        const size = Number(component.size ?? 0) || 0;
        const display = componentProgress(await createProgress({ stream: ctx.stderr, enabled: !ctx.json && !ctx.quiet, totalBytes: size, totalFiles: 1 }), size);
        try {
          const added = await target.addComponent(component, source, { onProgress: display.onProgress, signal: ctx.signal });
          results.push({ id: component.id!, name: component.name, status: "transferred", resourceIdentifiers: added.map((a) => a.resourceIdentifier) });
        } catch (e) {
          if (!(e instanceof LocationError && e.code === "LOCATION_COMPONENT_IN_LOCATION")) throw e;
          results.push({ id: component.id!, name: component.name, status: "already-present", resourceIdentifiers: [] });
        } finally {
          display.finish();
        }
      }
      const text = results.map((r) => `${r.id} ${JSON.stringify(r.name)}: ${r.status === "transferred" ? `${source.name} -> ${target.name}` : `already in ${target.name}`}`).join("\n");
      return { json: { from: source.name, to: target.name, components: results }, text };
    } finally {
      await closeLocations(locations);
    }
  },
};

export interface ActionListenerOptions {
  session: SessionLike;
  locations: Location[];
  signal: AbortSignal;
  /** One line per event (started, each finished job, stopped). */
  log: (event: Record<string, unknown>) => void;
}

/**
 * Runs the transfer-components action until `signal` aborts: subscribes on the session's event
 * hub, reports each finished job, then unsubscribes and waits for running transfers.
 */
export async function runActionListener(options: ActionListenerOptions): Promise<TransferJobResult[]> {
  const { session, locations, signal, log } = options;
  const action = createTransferAction({ session, locations });
  const unregister = action.register();
  log({ event: "listening", identifier: action.identifier, locations: locations.map((l) => l.name) });
  const finished: TransferJobResult[] = [];
  const report = (rs: TransferJobResult[]) => {
    for (const r of rs) {
      finished.push(r);
      log({ event: "job", jobId: r.jobId, status: r.status, description: r.description });
    }
  };
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    void action.whenIdle().then(report).finally(() => (polling = false));
  }, 250);
  try {
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
  } finally {
    clearInterval(poll);
    unregister();
  }
  report(await action.whenIdle());
  log({ event: "stopped", jobs: finished.length });
  return finished;
}

const action: CommandDef = {
  name: "ftrack action",
  summary: "run the transfer-components action listener (until Ctrl-C)",
  usage: ["ftrack action [--location LOC]…"],
  description:
    `Offers "Transfer component(s)" in ftrack's action menu for studio.sftp, ftrack.server and every --location\n` +
    `(${LOCATION_HELP}); each launch runs as an ftrack Job. Stops on Ctrl-C / SIGTERM after running\n` +
    "transfers finish. Prints one line per event (JSON lines with --json).",
  connects: false,
  options: [{ name: "location", long: "location", value: true, valueName: "LOC", help: "another location to offer (repeatable)" }],
  async run(ctx: CommandContext): Promise<CommandResult> {
    expectOperands(ctx.args, 0, 0, "ftrack action", action.usage[0]!);
    const specs = ctx.args.all("location").map((t) => parseLocationSpec(t, "ftrack action"));
    // The action's form never offers these (as ftrack's own transfer action): say so rather than
    // listen without the location the user asked for.
    const hidden = specs.find((s) => EXCLUDED_LOCATIONS.includes(s.name));
    if (hidden) throw new UsageError(`location ${JSON.stringify(hidden.name)} is never offered by the transfer action (${EXCLUDED_LOCATIONS.join(" and ")} are left out of its form): give the disk location another name, e.g. studio.disk=DIR`, "ftrack action");
    const session = await openFtrackSession(ctx.env, { eventHub: true });
    const locations: Location[] = [];
    try {
      locations.push(await registerSftpLocation(session, { ...sftpOptions(ctx), env: ctx.env }));
      locations.push(await openLocation(session, { name: SERVER_LOCATION_NAME }, ctx.env, "ftrack action"));
      for (const s of specs) if (s.name !== SFTP_LOCATION_NAME && s.name !== SERVER_LOCATION_NAME) locations.push(await openLocation(session, s, ctx.env, "ftrack action", sftpOptions(ctx)));
      await runActionListener({
        session, locations, signal: ctx.signal,
        log: (e) => ctx.stdout.write(ctx.json ? `${toJson(e)}\n` : `${humanEvent(e)}\n`),
      });
      // Printed line by line already: nothing more on stdout.
      return { json: undefined, text: "" };
    } finally {
      session.eventHub?.disconnect?.();
      await closeLocations(locations);
    }
  },
};

function humanEvent(e: Record<string, unknown>): string {
  if (e.event === "listening") return `listening for "${String(e.identifier)}" with locations ${(e.locations as string[]).join(", ")} (Ctrl-C to stop)`;
  if (e.event === "job") return `job ${String(e.jobId ?? "?")} ${String(e.status)}: ${String(e.description)}`;
  return `stopped after ${String(e.jobs)} job(s)`;
}

/** The ftrack subcommands. */
export const FTRACK_COMMANDS: CommandDef[] = [upload, transfer, action];
