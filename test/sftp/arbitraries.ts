/** fast-check arbitraries for SFTP packet values, shared by the sftp tests. */
import fc from "fast-check";
import type { Attrs } from "../../src/sftp/attrs.js";
import { PacketType } from "../../src/sftp/constants.js";
import type { SftpRequest, SftpResponse } from "../../src/sftp/packet.js";

const lossy = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function isUtf8(b: Uint8Array): boolean {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
}

export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const id = u32;
export const offset = fc.maxSafeNat();
export const bytes = (maxLength = 64) => fc.uint8Array({ maxLength });
export const text = fc.string({ unit: "binary", maxLength: 40 });

/** Wire text: valid UTF-8 as a string alone, or invalid UTF-8 kept as bytes with lossy text. */
export const wireText = fc.oneof(
  text.map((t) => ({ text: t, bytes: undefined as Uint8Array | undefined })),
  fc
    .tuple(bytes(20), fc.constantFrom(0xff, 0xc0, 0x80, 0xfe), bytes(20))
    .map(([a, bad, b]) => Uint8Array.from([...a, bad, ...b]))
    .filter((raw) => !isUtf8(raw))
    .map((raw) => ({ text: lossy.decode(raw), bytes: raw as Uint8Array | undefined })),
);

/** `{ [name]: text, [name + "Bytes"]?: bytes }` without undefined keys. */
export function named<K extends string>(name: K) {
  return wireText.map((t) => {
    const o: Record<string, unknown> = { [name]: t.text };
    if (t.bytes) o[`${name}Bytes`] = t.bytes;
    return o as { [P in K]: string } & { [P in `${K}Bytes`]?: Uint8Array };
  });
}

export const attrs: fc.Arbitrary<Attrs> = fc
  .record(
    {
      size: offset,
      ids: fc.tuple(u32, u32),
      permissions: u32,
      times: fc.tuple(u32, u32),
      extended: fc.array(fc.record({ type: text, data: bytes(16) }), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const a: Attrs = {};
    if (r.size !== undefined) a.size = r.size;
    if (r.ids) [a.uid, a.gid] = r.ids;
    if (r.permissions !== undefined) a.permissions = r.permissions;
    if (r.times) [a.atime, a.mtime] = r.times;
    if (r.extended) a.extended = r.extended;
    return a;
  });

const handle = bytes(32);
const T = PacketType;
const pathTypes = [T.LSTAT, T.STAT, T.OPENDIR, T.REMOVE, T.RMDIR, T.REALPATH, T.READLINK] as const;
const handleTypes = [T.CLOSE, T.FSTAT, T.READDIR] as const;
const extensionPairs = fc.array(fc.record({ name: text, data: text }), { maxLength: 4 });

export const request: fc.Arbitrary<SftpRequest> = fc.oneof(
  fc.record({ type: fc.constant(T.INIT), version: u32, extensions: extensionPairs }),
  fc
    .tuple(fc.constantFrom(...pathTypes), id, named("path"))
    .map(([type, id, p]) => ({ type, id, ...p }) as SftpRequest),
  fc
    .tuple(fc.constantFrom(T.SETSTAT, T.MKDIR), id, named("path"), attrs)
    .map(([type, id, p, attrs]) => ({ type, id, ...p, attrs }) as SftpRequest),
  fc
    .tuple(id, named("path"), u32, attrs)
    .map(([id, p, pflags, attrs]) => ({ type: T.OPEN, id, ...p, pflags, attrs }) as SftpRequest),
  fc
    .tuple(id, named("oldPath"), named("newPath"))
    .map(([id, a, b]) => ({ type: T.RENAME, id, ...a, ...b }) as SftpRequest),
  fc
    .tuple(id, named("targetPath"), named("linkPath"))
    .map(([id, a, b]) => ({ type: T.SYMLINK, id, ...a, ...b }) as SftpRequest),
  fc.tuple(fc.constantFrom(...handleTypes), id, handle).map(([type, id, handle]) => ({ type, id, handle })),
  fc.record({ type: fc.constant(T.READ), id, handle, offset, length: u32 }),
  fc.record({ type: fc.constant(T.WRITE), id, handle, offset, data: bytes(300) }),
  fc.record({ type: fc.constant(T.FSETSTAT), id, handle, attrs }),
  fc.record({ type: fc.constant(T.EXTENDED), id, request: text, data: bytes(100) }),
);

const nameEntry = fc
  .tuple(named("filename"), text, attrs)
  .map(([f, longname, attrs]) => ({ ...f, longname, attrs }));

export const response: fc.Arbitrary<SftpResponse> = fc.oneof(
  fc.record({ type: fc.constant(T.VERSION), version: u32, extensions: extensionPairs }),
  fc.record({ type: fc.constant(T.STATUS), id, code: u32, message: text, lang: text }),
  fc.record({ type: fc.constant(T.HANDLE), id, handle }),
  fc.record({ type: fc.constant(T.DATA), id, data: bytes(300) }),
  fc.record({ type: fc.constant(T.NAME), id, entries: fc.array(nameEntry, { maxLength: 5 }) }),
  fc.record({ type: fc.constant(T.ATTRS), id, attrs }),
  fc.record({ type: fc.constant(T.EXTENDED_REPLY), id, data: bytes(100) }),
);

/** Strips and checks the uint32 length prefix of a framed packet. */
export function unframe(packet: Uint8Array): Uint8Array {
  const len = new DataView(packet.buffer, packet.byteOffset, 4).getUint32(0);
  if (len !== packet.length - 4) throw new Error(`length field ${len} but ${packet.length - 4} bytes follow`);
  return packet.subarray(4);
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const unhex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
