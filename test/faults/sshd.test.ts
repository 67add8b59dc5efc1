/** The fault suite against OpenSSH's sshd (the conformance harness), through the fault proxy. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSshd } from "../../conformance/helpers.js";
import { startSshd } from "../../conformance/sshd.js";
import { connectDirect } from "./cases.js";
import { describeFaults } from "./suite.js";

describeFaults("OpenSSH sshd", describeSshd, async () => {
  const s = await startSshd();
  const localDir = await mkdtemp(join(tmpdir(), "faults-sshd-"));
  const target = {
    port: s.port,
    username: s.username,
    password: s.password,
    privateKey: s.clientKeys.ed25519,
    fingerprints: s.hostKeys.map((k) => k.fingerprint),
    remoteDir: "",
    hostDir: "",
    localDir,
  };
  // A directory the test user owns (uploads land there); sshd is not chrooted, so the remote
  // path is the same path on this host.
  const sftp = await connectDirect(target);
  target.remoteDir = target.hostDir = `${await sftp.realpath(".")}/faults-${Date.now()}`;
  await sftp.mkdir(target.remoteDir);
  await sftp.close();
  return {
    target,
    async stop() {
      await rm(target.hostDir, { recursive: true, force: true });
      await rm(localDir, { recursive: true, force: true });
      await s.stop();
    },
  };
}, { shift: 0 });
