/** EXT_INFO (RFC 8308 §2.3) codec, shared by the server (encode) and the client (decode). */
import { expect, it } from "vitest";
import { MSG } from "../../src/ssh/messages.js";
import { SERVER_SIG_ALGS, decodeExtInfo, encodeExtInfo } from "../../src/ssh/transport/ext-info.js";

it("round-trips extension pairs in order", () => {
  const payload = encodeExtInfo(new Map([[SERVER_SIG_ALGS, "ssh-ed25519,rsa-sha2-512"], ["ping@openssh.com", "0"]]));
  expect(payload[0]).toBe(MSG.EXT_INFO);
  const back = decodeExtInfo(payload);
  expect([...back.keys()]).toEqual([SERVER_SIG_ALGS, "ping@openssh.com"]);
  expect(new TextDecoder().decode(back.get(SERVER_SIG_ALGS))).toBe("ssh-ed25519,rsa-sha2-512");
});

it("refuses a count larger than the pairs present", () => {
  const payload = encodeExtInfo(new Map([["a", "b"]]));
  payload[4] = 2; // claims two pairs
  expect(() => decodeExtInfo(payload)).toThrow();
});
