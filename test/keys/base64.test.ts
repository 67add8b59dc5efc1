/** Base64 (RFC 4648) codec and SHA256 fingerprints. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeBase64, encodeBase64, encodeBase64Url } from "../../src/ssh/wire/base64.js";
import { fingerprintSha256 } from "../../src/ssh/keys/fingerprint.js";
import { ProtocolError } from "../../src/errors.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("base64", () => {
  it("matches the RFC 4648 §10 test vectors", () => {
    const vectors = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];
    for (const [plain, b64] of vectors) {
      expect(encodeBase64(new TextEncoder().encode(plain))).toBe(b64);
      expect(text(decodeBase64(b64!))).toBe(plain);
    }
  });

  it("round-trips and agrees with Buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const b64 = encodeBase64(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString("base64"));
        expect(encodeBase64Url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
        expect(Buffer.from(decodeBase64(b64)).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it("rejects non-canonical or malformed input", () => {
    for (const bad of ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "=Zg=", "Zg==Zg==", "Zm 9v", "Zm9v\n", "Zm-_", "Zm9é", "===="]) {
      expect(() => decodeBase64(bad), bad).toThrow(ProtocolError);
    }
  });

  it("never throws anything but ProtocolError on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          const out = decodeBase64(s);
          expect(encodeBase64(out)).toBe(s); // anything accepted is canonical
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});

describe("fingerprintSha256", () => {
  it("is SHA256: plus unpadded base64 of the digest", () => {
    // sha256("") = e3b0c442…, base64 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
    expect(fingerprintSha256(new Uint8Array(0))).toBe("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
  });
});
