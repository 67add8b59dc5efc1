/** The SFTP layer: the client, file handles, attributes and the v3 packet codecs. */
export { SftpClient, type DirEntry } from "./client.js";
export { SftpFile, type OpenMode } from "./file.js";
export { Stats, type Attrs } from "./attrs.js";
export type { Progress, UploadOptions, DownloadOptions, StreamOptions } from "./transfers.js";
export { AUTO_MIN_SIZE } from "./segmented.js";
export { AUTO_MAX_STREAMS, MAX_STREAMS } from "./segments.js";
export { MAX_CONNECTIONS } from "./lane-connections.js";
export type { DirTransferOptions, DirTransferResult } from "./transfers-dir.js";
export type { PooledSession, SessionSource } from "./session-source.js";
export type { ReadStreamOptions, WriteStreamOptions } from "./streams.js";
export type { StatvfsReply } from "./extensions/statvfs.js";
export { connect, type ConnectOptions } from "../connect.js";
export { SftpError, type SftpErrorCode } from "../errors.js";
export {
  createSftpServer, type SftpServer, type SftpServerOptions, type AuthRequest, type Authenticate, type AuthMethod, type HostKeyInput,
  type ServerConnectionInfo, type SftpServerLimits, type SshServerLimits,
} from "./server/index.js";
