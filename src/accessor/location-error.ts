/**
 * LocationError: what Location operations throw, one code per ftrack Python location exception
 * (ComponentInLocationError, ComponentNotInLocationError, LocationError). `cause` holds the
 * AccessorError / StructureError / @ftrack/api error underneath.
 */
import { SshError } from "../errors.js";
import type { FtrackEntity } from "./ftrack.js";

export type LocationErrorCode =
  /** ComponentInLocationError: some components are already in the target location. */
  | "LOCATION_COMPONENT_IN_LOCATION"
  /** ComponentNotInLocationError: some components are not in the location. */
  | "LOCATION_COMPONENT_NOT_IN_LOCATION"
  /** The location has no structure, or no accessor (here or on the source). */
  | "LOCATION_NOT_CONFIGURED"
  /** Data already exists at the computed resource identifier; nothing is overwritten. */
  | "LOCATION_DATA_EXISTS"
  /** Copying data failed; what was copied has been removed again. */
  | "LOCATION_TRANSFER_FAILED"
  /** Recording ComponentLocations failed; copied data and created records were removed. */
  | "LOCATION_REGISTER_FAILED"
  /** Removing data or records failed. */
  | "LOCATION_REMOVE_FAILED"
  /** A session query failed. */
  | "LOCATION_QUERY_FAILED"
  /** The operation was aborted through its AbortSignal. */
  | "LOCATION_ABORTED";

export class LocationError extends SshError {
  declare readonly code: LocationErrorCode;
  /** The components the error is about. */
  readonly components: FtrackEntity[];
  /** Data that was copied and left in place (empty unless cleanup itself failed). */
  readonly leftBehind: string[];
  constructor(code: LocationErrorCode, message: string, details: { components?: FtrackEntity[]; leftBehind?: string[]; cause?: unknown } = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.components = details.components ?? [];
    this.leftBehind = details.leftBehind ?? [];
  }
}
