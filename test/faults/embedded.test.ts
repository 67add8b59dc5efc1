/** The fault suite against the embedded server (src/sftp/server), through the fault proxy. */
import { describe } from "vitest";
import { startTestServer, PASSWORD, USER } from "../server/helpers.js";
import { OPERATIONS } from "./operations.js";
import { describeFaults } from "./suite.js";

describeFaults("embedded server", describe, async () => {
  const s = await startTestServer();
  return {
    target: {
      port: s.server.port,
      username: USER,
      password: PASSWORD,
      fingerprints: s.server.hostKeyFingerprints,
      remoteDir: "",
      hostDir: s.root,
      localDir: s.base,
    },
    stop: () => s.stop(),
  };
}, { ops: OPERATIONS.filter((op) => op !== "connectKey"), shift: 1 }); // key logins are exercised against sshd
