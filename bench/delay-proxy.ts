/**
 * A long link for the bench, in its own process so its event loop takes no time from the clients
 * measured in the bench's process: `node --import tsx bench/delay-proxy.ts TARGET_PORT ONE_WAY_MS`
 * listens on 127.0.0.1 (a free port, printed as `PORT n`), forwards to TARGET_PORT and delays
 * every chunk by ONE_WAY_MS in each direction (RTT = 2 × ONE_WAY_MS). This kernel has no netem,
 * so the delay is added in userspace (test/support/fault-proxy.ts). It exits when stdin closes.
 */
import { startFaultProxy } from "../test/support/fault-proxy.js";

const [target, oneWay] = process.argv.slice(2).map(Number);
if (!Number.isInteger(target) || !Number.isFinite(oneWay)) {
  process.stderr.write("usage: delay-proxy.ts TARGET_PORT ONE_WAY_MS\n");
  process.exit(2);
}
const proxy = await startFaultProxy({ targetPort: target!, delayMs: { up: oneWay, down: oneWay } });
process.stdout.write(`PORT ${proxy.port}\n`);
process.stdin.on("end", () => void proxy.close().finally(() => process.exit(0)));
process.stdin.resume();
