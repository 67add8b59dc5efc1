/** Prints bench/profile.ts's summary of one .cpuprofile: npx tsx bench/profile-top.ts FILE [TOP]. */
import { summariseProfile } from "./profile.js";

const s = await summariseProfile(process.argv[2]!, Number(process.argv[3] ?? 25));
console.log(`total ${s.totalMs.toFixed(0)} ms`);
for (const f of s.functions) console.log(`${f.percent.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
console.log("--- files");
for (const f of s.files) console.log(`${f.percent.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
