/**
 * "users-groups-by-id@openssh.com" (OpenSSH PROTOCOL §4.12): names for numeric user and group
 * ids, for display (ATTRS carries only numbers).
 * Request: string uids, string gids — each a packed array of uint32.
 * Reply: EXTENDED_REPLY with string usernames, string groupnames — each a packed sequence of
 * strings, one per requested id in order, "" for an id the server cannot name.
 */
import { ProtocolError } from "../../errors.js";
import { SshReader } from "../../ssh/wire/reader.js";
import { SshWriter } from "../../ssh/wire/writer.js";
import { buildExtended, buildExtendedReply } from "../packets/extended.js";
import { readLossy, u32 } from "../packets/wire.js";

export const USERS_GROUPS_BY_ID = "users-groups-by-id@openssh.com";

export interface UsersGroupsByIdRequest {
  uids: number[];
  gids: number[];
}

export interface UsersGroupsByIdReply {
  /** One name per requested uid, in order; "" where unknown. */
  users: string[];
  groups: string[];
}

function packIds(ids: readonly number[], field: string): Uint8Array {
  const w = new SshWriter(ids.length * 4);
  for (const id of ids) w.uint32(u32(id, field));
  return w.finish();
}

function unpackIds(bytes: Uint8Array, field: string): number[] {
  if (bytes.length % 4 !== 0) {
    throw new ProtocolError(`${USERS_GROUPS_BY_ID}: ${field} is ${bytes.length} bytes, not a multiple of 4`);
  }
  const r = new SshReader(bytes, `${USERS_GROUPS_BY_ID} ${field}`);
  const out: number[] = [];
  while (r.remaining > 0) out.push(r.uint32());
  return out;
}

function packNames(names: readonly string[]): Uint8Array {
  const w = new SshWriter(names.length * 12);
  for (const n of names) w.string(n);
  return w.finish();
}

function unpackNames(bytes: Uint8Array, field: string): string[] {
  const r = new SshReader(bytes, `${USERS_GROUPS_BY_ID} ${field}`);
  const out: string[] = [];
  while (r.remaining > 0) out.push(readLossy(r));
  return out;
}

export function encodeUsersGroupsByIdRequest(id: number, f: UsersGroupsByIdRequest): Uint8Array {
  const uids = packIds(f.uids, "uid");
  const gids = packIds(f.gids, "gid");
  return buildExtended(id, USERS_GROUPS_BY_ID, (w) => w.string(uids).string(gids), 8 + uids.length + gids.length);
}

export function decodeUsersGroupsByIdRequest(data: Uint8Array): UsersGroupsByIdRequest {
  const r = new SshReader(data, USERS_GROUPS_BY_ID);
  const uids = unpackIds(r.string(), "uids");
  const gids = unpackIds(r.string(), "gids");
  r.end();
  return { uids, gids };
}

export function encodeUsersGroupsByIdReply(id: number, f: UsersGroupsByIdReply): Uint8Array {
  const users = packNames(f.users);
  const groups = packNames(f.groups);
  return buildExtendedReply(id, (w) => w.string(users).string(groups), 8 + users.length + groups.length);
}

/** Decodes the EXTENDED_REPLY data (after the id). */
export function decodeUsersGroupsByIdReply(data: Uint8Array): UsersGroupsByIdReply {
  const r = new SshReader(data, `${USERS_GROUPS_BY_ID} reply`);
  const users = unpackNames(r.string(), "usernames");
  const groups = unpackNames(r.string(), "groupnames");
  r.end();
  return { users, groups };
}
