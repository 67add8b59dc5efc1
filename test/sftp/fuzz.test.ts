/** Hostile input: every decoder returns a value or throws ProtocolError, nothing else. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.js";
import { decodeAttrs } from "../../src/sftp/attrs.js";
import { PacketType } from "../../src/sftp/constants.js";
import { decodeCopyDataRequest } from "../../src/sftp/extensions/copy-data.js";
import { decodeExpandPathRequest } from "../../src/sftp/extensions/expand-path.js";
import { decodeFsyncRequest } from "../../src/sftp/extensions/fsync.js";
import { decodeHardlinkRequest } from "../../src/sftp/extensions/hardlink.js";
import { decodeHomeDirectoryRequest } from "../../src/sftp/extensions/home-directory.js";
import { decodeLimitsReply, decodeLimitsRequest } from "../../src/sftp/extensions/limits.js";
import { decodeLsetstatRequest } from "../../src/sftp/extensions/lsetstat.js";
import { decodePosixRenameRequest } from "../../src/sftp/extensions/posix-rename.js";
import * as statvfs from "../../src/sftp/extensions/statvfs.js";
import * as ugid from "../../src/sftp/extensions/users-groups-by-id.js";
import { SftpFramer } from "../../src/sftp/framing.js";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../src/sftp/packet.js";
import { decodeName } from "../../src/sftp/packets/response.js";
import { request, response, unframe, unhex } from "./arbitraries.js";

function valueOrProtocolError(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

const TYPES = Object.values(PacketType);
/** A packet (type byte + body): a real type byte most of the time, random bytes after it. */
const packet = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.tuple(fc.constantFrom(...TYPES), fc.uint8Array({ maxLength: 200 })).map(([t, b]) => Uint8Array.of(t, ...b)),
);

const DATA_DECODERS = [
  decodeAttrs,
  decodeCopyDataRequest,
  decodeExpandPathRequest,
  decodeFsyncRequest,
  decodeHardlinkRequest,
  decodeHomeDirectoryRequest,
  decodeLimitsReply,
  decodeLimitsRequest,
  decodeLsetstatRequest,
  decodePosixRenameRequest,
  statvfs.decodeStatvfsRequest,
  statvfs.decodeFstatvfsRequest,
  statvfs.decodeStatvfsReply,
  ugid.decodeUsersGroupsByIdRequest,
  ugid.decodeUsersGroupsByIdReply,
];

describe("SFTP decoders on hostile input", () => {
  it("random packets into decodeRequest/decodeResponse", () => {
    fc.assert(
      fc.property(packet, (p) => {
        valueOrProtocolError(() => decodeRequest(p));
        valueOrProtocolError(() => decodeResponse(p));
      }),
      { numRuns: 5000 },
    );
  });

  it("valid packets truncated or with one byte changed", () => {
    const encoded = fc.oneof(request.map(encodeRequest), response.map(encodeResponse)).map(unframe);
    fc.assert(
      fc.property(encoded, fc.nat(), fc.integer({ min: 0, max: 255 }), (p, at, v) => {
        const cut = p.subarray(0, at % (p.length + 1));
        const changed = p.slice();
        changed[at % p.length] = v;
        for (const q of [cut, changed]) {
          valueOrProtocolError(() => decodeRequest(q));
          valueOrProtocolError(() => decodeResponse(q));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("random data into every extension decoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (d) => {
        for (const decode of DATA_DECODERS) valueOrProtocolError(() => decode(d));
      }),
      { numRuns: 2000 },
    );
  });

  it("a NAME count larger than the bytes can hold is refused before reading entries", () => {
    const hostile = unhex("00000001 ffffffff 00000000 00000000 00000000");
    expect(() => decodeName(hostile)).toThrow(/claims 4294967295 entries/);
    // Exactly enough for one minimal entry per count: accepted.
    expect(decodeName(unhex("00000001 00000001 00000000 00000000 00000000")).entries).toHaveLength(1);
  });

  it("random chunks into the framer", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }), (chunks) => {
        const f = new SftpFramer(1024);
        valueOrProtocolError(() => {
          for (const c of chunks) for (const p of f.feed(c)) decodeResponse(p);
        });
      }),
      { numRuns: 2000 },
    );
  });
});
