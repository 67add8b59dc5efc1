/**
 * Resource identifiers: "/"-separated paths relative to an accessor's root. They are checked
 * before any storage is touched, so no identifier can reach outside the root: `..` segments,
 * absolute paths and NUL bytes are refused with ACCESSOR_FILESYSTEM_PATH. Empty and `.`
 * segments are dropped, so "a//b/./c/" and "a/b/c" name the same resource; "" is the root.
 */
import { AccessorError } from "./accessor.js";
import { tempSuffix } from "../util/temp-suffix.js";

/** Splits and checks an identifier; the segments are never empty, `.` or `..`. */
export function idSegments(id: string, operation?: string): string[] {
  if (typeof id !== "string") {
    throw new AccessorError("ACCESSOR_FILESYSTEM_PATH", `a resource identifier must be a string, got ${typeof id}`, { operation });
  }
  if (id.includes("\0")) {
    throw new AccessorError("ACCESSOR_FILESYSTEM_PATH", `resource identifier ${JSON.stringify(id)} contains a NUL byte`, {
      resourceIdentifier: id,
      operation,
    });
  }
  if (id.startsWith("/")) {
    throw new AccessorError(
      "ACCESSOR_FILESYSTEM_PATH",
      `resource identifier ${JSON.stringify(id)} is absolute; identifiers are relative to the accessor's root`,
      { resourceIdentifier: id, operation },
    );
  }
  const parts = id.split("/").filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) {
    throw new AccessorError(
      "ACCESSOR_FILESYSTEM_PATH",
      `resource identifier ${JSON.stringify(id)} contains "..": identifiers may not leave the accessor's root`,
      { resourceIdentifier: id, operation },
    );
  }
  return parts;
}

/** The canonical form of an identifier ("" for the root). */
export function normaliseId(id: string, operation?: string): string {
  return idSegments(id, operation).join("/");
}

/** `name` inside container `id` (both checked). */
export function childId(id: string, name: string): string {
  const parent = normaliseId(id);
  const child = normaliseId(name);
  return parent === "" ? child : child === "" ? parent : `${parent}/${child}`;
}

/** The container of `id`; ACCESSOR_PARENT_NOT_FOUND for the root, which has none. */
export function containerId(id: string): string {
  const parts = idSegments(id, "getContainer");
  if (parts.length === 0) {
    throw new AccessorError("ACCESSOR_PARENT_NOT_FOUND", "the root has no container", {
      resourceIdentifier: id,
      operation: "getContainer",
    });
  }
  return parts.slice(0, -1).join("/");
}

/** The last segment of `id` ("" for the root). */
export function idBaseName(id: string): string {
  const parts = idSegments(id);
  return parts[parts.length - 1] ?? "";
}

/** The temporary name a "wb" handle writes to, beside the target: `.name.<random>.part`. */
export function tempIdFor(id: string): string {
  const parts = idSegments(id);
  const name = parts.pop() ?? "";
  return [...parts, `.${name}.${tempSuffix()}.part`].join("/");
}
