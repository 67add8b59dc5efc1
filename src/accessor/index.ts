/**
 * The ftrack layer (`<package>/accessor`): accessors that store ftrack component data over SFTP
 * or on the local disk, ftrack's StandardStructure, Locations on top of an @ftrack/api Session,
 * the `studio.sftp` registration and the transfer-components action. @ftrack/api is never
 * imported here: pass your Session in.
 */
export { AccessorError, isAccessorError, type Accessor, type AccessorData, type AccessorOpenOptions, type AccessorErrorCode, type MakeContainerOptions, type AccessorOpenMode } from "./accessor.js";
export { SFTPAccessor, type SFTPAccessorOptions } from "./sftp-accessor.js";
export { sftpOptionsFromEnv, ENV_PREFIX, type Env } from "./sftp-env.js";
export { DiskAccessor, type DiskAccessorOptions } from "./disk-accessor.js";
export { CHUNK_SIZE } from "./data.js";
export { childId, containerId, normaliseId } from "./resource-id.js";
export { formatFrame, memberPath, parseSequencePath, sequenceExpression, sequenceTemplate, type SequencePath } from "./sequence.js";
export {
  StandardStructure, StructureError, formatVersion, type StandardStructureOptions, type StructureContext, type StructureErrorCode,
} from "./standard-structure.js";
export { quote, quoteList, type EventHubLike, type FtrackEntity, type FtrackEvent, type QuerySession, type SessionLike } from "./ftrack.js";
export { Location, type LocationOptions, type RemoveComponentsOptions } from "./location.js";
export { LocationError, type LocationErrorCode } from "./location-error.js";
export type { AddComponentsOptions, AddProgress, LocationSource, Source, Structure } from "./location-transfer.js";
export { createComponent, fileExtension, type CreateComponentOptions } from "./components.js";
export { registerSftpLocation, SFTP_LOCATION_NAME, SFTP_LOCATION_PRIORITY, type RegisterSftpLocationOptions } from "./plugin.js";
export {
  componentQueries, createTransferAction, describeResult, EXCLUDED_LOCATIONS, findComponents, isValidSelection, parseTransferValues,
  runTransferJob, SUPPORTED_ENTITY_TYPES, TRANSFER_ACTION_IDENTIFIER, TRANSFER_ACTION_LABEL, transferComponents, transferForm,
  translateSelection, type LocationChoice, type SelectedEntity, type TransferAction, type TransferActionOptions, type TransferJobOptions,
  type TransferJobResult, type TransferOptions, type TransferResult, type TransferValues,
} from "./transfer-action.js";
export {
  ServerAccessor, SERVER_LOCATION_ID, SERVER_LOCATION_NAME, type OpenWriterOptions, type ServerAccessorOptions, type ServerSessionLike,
} from "./server-accessor.js";
export { EntityIdStructure, registerServerLocation, ServerLocation, SERVER_LOCATION_PRIORITY, type RegisterServerLocationOptions } from "./server-location.js";
export { MAX_PARTS_IN_FLIGHT, MAX_UPLOAD_PARTS, uploadPartSize, type UploadProgress } from "./server-upload.js";
export type { RequestPolicy, ServerCredentials } from "./server-http.js";
export {
  ORIGIN_LOCATION_ID, ORIGIN_LOCATION_NAME, OriginLocation, OriginStructure, registerUnmanagedLocation, UNMANAGED_LOCATION_ID,
  UNMANAGED_LOCATION_NAME, UnmanagedLocation,
} from "./unmanaged-location.js";
export { COMPONENT_ADDED_TOPIC } from "./events.js";
