/**
 * registerSftpLocation: the TypeScript counterpart of the Python plugin of
 * `ftrack-sftp-accessor`, which on `ftrack.api.session.configure-location` set up the Location
 * named `studio.sftp` with an SFTPAccessor, a StandardStructure and priority 30.
 *
 * About that event: the Python Session publishes `ftrack.api.session.configure-location` to
 * itself, in-process, while it starts; it never travels through the ftrack event server.
 * @ftrack/api's Session has no such step (and no Location model), and its EventHub only
 * subscribes to `topic=…` expressions of server events, so there is nothing to hook: call
 * registerSftpLocation once after creating the Session, and pass the Location it returns
 * wherever Python code would have looked the location up.
 */
import type { Accessor } from "./accessor.js";
import type { SessionLike } from "./ftrack.js";
import { Location } from "./location.js";
import type { Structure } from "./location-transfer.js";
import { SFTPAccessor, type SFTPAccessorOptions } from "./sftp-accessor.js";
import type { Env } from "./sftp-env.js";
import { StandardStructure, type StandardStructureOptions } from "./standard-structure.js";

export const SFTP_LOCATION_NAME = "studio.sftp";
export const SFTP_LOCATION_PRIORITY = 30;

export interface RegisterSftpLocationOptions extends Partial<SFTPAccessorOptions> {
  /** Use this accessor instead of building an SFTPAccessor. */
  accessor?: Accessor;
  /** Without `host` (or `accessor`), the accessor comes from FTRACK_SFTP_ACCESSOR_* in `env` (default process.env). */
  env?: Env;
  /** Default: a StandardStructure loading missing attributes through the session. */
  structure?: Structure;
  structureOptions?: Omit<StandardStructureOptions, "session">;
  /** Location name (default "studio.sftp") and priority (default 30). */
  name?: string;
  priority?: number;
  /** Label and description when the Location entity has to be created. */
  label?: string;
  description?: string;
}

/**
 * Ensures the Location entity `studio.sftp` exists (creating it when missing) and returns it
 * configured with an SFTPAccessor, a StandardStructure and priority 30.
 */
export async function registerSftpLocation(session: SessionLike, options: RegisterSftpLocationOptions = {}): Promise<Location> {
  const { accessor: given, env, structure, structureOptions, name, priority, label, description, ...sftp } = options;
  const accessor = given ?? (sftp.host !== undefined ? new SFTPAccessor(sftp as SFTPAccessorOptions) : SFTPAccessor.fromEnv(env ?? globalThis.process?.env ?? {}, sftp));
  return Location.ensure(session, name ?? SFTP_LOCATION_NAME, {
    accessor,
    structure: structure ?? new StandardStructure({ ...structureOptions, session }),
    priority: priority ?? SFTP_LOCATION_PRIORITY,
    label: label ?? "Studio SFTP",
    description: description ?? "Components stored on the studio SFTP server",
  });
}
