/**
 * The operations the fault suite runs, one public SftpClient call (or short sequence) each: the
 * driver runs one under a fault, in a child process; the suite runs the same one again,
 * without the fault, as the retry that must then give byte-identical results.
 */
import { readFile } from "node:fs/promises";
import type { SftpClient } from "../../src/sftp/client.js";

export const OPERATIONS = [
  "connect", "connectKey", "list", "stat", "readFile", "writeFile", "upload", "download",
  "uploadDir", "downloadDir", "readStream", "writeStream", "handle",
  // upload/download carried by three SFTP sessions at once (segmented.ts), resumed by ranges.
  "uploadStreams", "downloadStreams",
] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Which way an operation's bulk data flows ("none": only requests and small replies). */
export function dataDirection(op: Operation): "up" | "down" | "none" {
  switch (op) {
    case "writeFile": case "upload": case "uploadStreams": case "uploadDir": case "writeStream":
      return "up";
    case "readFile": case "download": case "downloadStreams": case "downloadDir": case "readStream": case "handle":
      return "down";
    default:
      return "none";
  }
}

/**
 * Runs `op` with `local` as the local side (the source of uploads and writes, the target of
 * downloads) and `remote` as the remote one. Transfers resume, so a retry continues a cut one.
 */
export async function runOperation(sftp: SftpClient, op: Operation, local: string, remote: string): Promise<void> {
  switch (op) {
    case "connect":
    case "connectKey":
      await sftp.realpath(".");
      return;
    case "list":
      await sftp.list(remote);
      return;
    case "stat":
      await sftp.stat(remote);
      return;
    case "readFile":
      await sftp.readFile(remote);
      return;
    case "writeFile":
      await sftp.writeFile(remote, await readFile(local));
      return;
    case "upload":
    case "uploadStreams":
      await sftp.upload(local, remote, { resume: true, streams: op === "upload" ? 1 : 3 });
      return;
    case "download":
    case "downloadStreams":
      await sftp.download(remote, local, { resume: true, streams: op === "download" ? 1 : 3 });
      return;
    case "uploadDir":
      await sftp.uploadDir(local, remote, { concurrency: 3 });
      return;
    case "downloadDir":
      await sftp.downloadDir(remote, local, { concurrency: 3 });
      return;
    case "readStream": {
      const reader = sftp.createReadStream(remote).getReader();
      while (!(await reader.read()).done);
      return;
    }
    case "writeStream": {
      const data = await readFile(local);
      const writer = sftp.createWriteStream(remote).getWriter();
      for (let o = 0; o < data.length; o += 100_000) await writer.write(data.subarray(o, o + 100_000));
      await writer.close();
      return;
    }
    case "handle": {
      const file = await sftp.open(remote, "r");
      try {
        const size = (await file.stat()).size ?? 0;
        for (let o = 0; o < size; o += 200_000) await file.read(o, 200_000);
      } finally {
        await file.close();
      }
      return;
    }
  }
}
