import { describe, expect, it } from "vitest";
import { expectOperands, formatOptions, parseArgs, parseCount, type OptionSpec } from "../../src/cli/args.js";
import { UsageError } from "../../src/cli/errors.js";

const SPECS: OptionSpec[] = [
  { name: "long", short: "l", help: "long" },
  { name: "all", short: "a", help: "all" },
  { name: "port", short: "p", long: "port", value: true, valueName: "PORT", help: "port" },
  { name: "option", short: "o", value: true, valueName: "KEY=VALUE", help: "opt" },
  { name: "json", long: "json", help: "json" },
];

const parse = (argv: string[]) => parseArgs(argv, SPECS, { command: "ls" }).args;

describe("parseArgs", () => {
  it("reads flags, bundles and operands in any order", () => {
    const a = parse(["-la", "host:dir", "--json"]);
    expect(a.flag("long")).toBe(true);
    expect(a.flag("all")).toBe(true);
    expect(a.flag("json")).toBe(true);
    expect(a.positionals).toEqual(["host:dir"]);
  });

  it("takes values attached, as the next word, or after =", () => {
    expect(parse(["-p22"]).value("port")).toBe("22");
    expect(parse(["-p", "22"]).value("port")).toBe("22");
    expect(parse(["--port=22"]).value("port")).toBe("22");
    expect(parse(["--port", "22"]).value("port")).toBe("22");
    expect(parse(["-lp", "2222", "x"]).value("port")).toBe("2222");
  });

  it("keeps every occurrence in order; value() is the first (ssh: first wins)", () => {
    const a = parse(["-o", "Ciphers=a", "-oPort=2", "-o", "Ciphers=b"]);
    expect(a.all("option")).toEqual(["Ciphers=a", "Port=2", "Ciphers=b"]);
    expect(a.value("option")).toBe("Ciphers=a");
    expect(a.all("nothing")).toEqual([]);
  });

  it("treats -- as the end of options and - as an operand", () => {
    const a = parse(["-l", "--", "-a", "--json", "-"]);
    expect(a.flag("all")).toBe(false);
    expect(a.positionals).toEqual(["-a", "--json", "-"]);
    expect(parse(["-"]).positionals).toEqual(["-"]);
  });

  it("refuses unknown options and missing values with usage errors", () => {
    expect(() => parse(["-x"])).toThrow(UsageError);
    expect(() => parse(["-x"])).toThrow(/unknown option -x for "ls"/);
    expect(() => parse(["--nope"])).toThrow(/unknown option --nope/);
    expect(() => parse(["-p"])).toThrow(/-p needs a value \(PORT\)/);
    expect(() => parse(["--port"])).toThrow(/--port needs a value/);
    expect(() => parse(["--json=1"])).toThrow(/takes no value/);
  });

  it("stops at the first operand when asked (to find the command word)", () => {
    const r = parseArgs(["--json", "-p", "2", "ls", "-l", "host:"], SPECS, { stopAtOperand: true });
    expect(r.args.flag("json")).toBe(true);
    expect(r.args.value("port")).toBe("2");
    expect(r.rest).toEqual(["ls", "-l", "host:"]);
    expect(parseArgs(["--json"], SPECS, { stopAtOperand: true }).rest).toEqual([]);
  });
});

describe("helpers", () => {
  it("formats option help aligned", () => {
    const text = formatOptions(SPECS);
    expect(text).toContain("  -p, --port PORT");
    expect(text.split("\n")).toHaveLength(5);
  });

  it("checks operand counts", () => {
    const a = parse(["a", "b"]);
    expect(expectOperands(a, 1, 2, "mv", "mv a b")).toEqual(["a", "b"]);
    expect(() => expectOperands(a, 3, 3, "mv", "mv a b")).toThrow(/missing operand/);
    expect(() => expectOperands(a, 0, 1, "mv", "mv a b")).toThrow(/too many operands/);
  });

  it("parses counts within bounds", () => {
    expect(parseCount("22", "port", undefined, { min: 1, max: 65535 })).toBe(22);
    expect(() => parseCount("0", "port", undefined, { min: 1 })).toThrow(/between 1/);
    expect(() => parseCount("2x", "port")).toThrow(/whole number/);
    expect(() => parseCount("-1", "port")).toThrow(UsageError);
  });
});
