/**
 * A parser for the subset of ftrack's query language the accessor layer and its tests send:
 *
 *     [select a, b.c from] Type [where <expr>] [order by path [asc|desc]] [limit n] [offset n]
 *     expr := term (and|or term)*, "not" expr, "(" expr ")"
 *     term := path (is|is_not|=|!=|in|not_in|like|not_like|<|>|<=|>=) value
 *     value := "string" | 'string' | number | true | false | null | ( value, … )
 *
 * Strings take backslash escapes, as @ftrack/api's `expression` tag writes them.
 */

export type Value = string | number | boolean | null | Value[];

export type Expr =
  | { kind: "and"; left: Expr; right: Expr }
  | { kind: "or"; left: Expr; right: Expr }
  | { kind: "not"; expr: Expr }
  | { kind: "cmp"; path: string[]; op: string; value: Value };

export interface Query {
  select: string[][] | undefined;
  type: string;
  where: Expr | undefined;
  orderBy: { path: string[]; desc: boolean } | undefined;
  limit: number | undefined;
  offset: number | undefined;
}

type Token = { t: "word"; v: string } | { t: "str"; v: string } | { t: "num"; v: number } | { t: "sym"; v: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'") {
      let v = "";
      i++;
      while (i < s.length && s[i] !== c) {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        v += s[i++];
      }
      if (s[i] !== c) throw new Error(`unterminated string in query: ${s}`);
      i++;
      out.push({ t: "str", v });
      continue;
    }
    if ("(),".includes(c)) { out.push({ t: "sym", v: c }); i++; continue; }
    const op = /^(!=|<=|>=|=|<|>)/.exec(s.slice(i));
    if (op) { out.push({ t: "sym", v: op[1]! }); i += op[1]!.length; continue; }
    const num = /^-?\d+(\.\d+)?(?![\w.])/.exec(s.slice(i));
    if (num) { out.push({ t: "num", v: Number(num[0]) }); i += num[0].length; continue; }
    const word = /^[A-Za-z_][\w.]*/.exec(s.slice(i));
    if (word) { out.push({ t: "word", v: word[0] }); i += word[0].length; continue; }
    throw new Error(`unexpected character ${JSON.stringify(c)} in query: ${s}`);
  }
  return out;
}

const OPS = new Set(["is", "is_not", "in", "not_in", "like", "not_like", "=", "!=", "<", ">", "<=", ">="]);

export function parseQuery(text: string): Query {
  const toks = tokenize(text);
  let p = 0;
  const peek = () => toks[p];
  const isWord = (w: string) => peek()?.t === "word" && (peek()!.v as string).toLowerCase() === w;
  const fail = (why: string): never => { throw new Error(`cannot parse query (${why}): ${text}`); };
  const word = () => (peek()?.t === "word" ? (toks[p++]!.v as string) : fail("expected a name"));
  const sym = (v: string) => (peek()?.t === "sym" && peek()!.v === v ? void p++ : fail(`expected ${v}`));

  let select: string[][] | undefined;
  if (isWord("select")) {
    p++;
    select = [word().split(".")];
    while (peek()?.t === "sym" && peek()!.v === ",") { p++; select.push(word().split(".")); }
    if (!isWord("from")) fail("expected from");
    p++;
  }
  const type = word();

  const value = (): Value => {
    const tok = toks[p++];
    if (!tok) return fail("expected a value");
    if (tok.t === "str" || tok.t === "num") return tok.v;
    if (tok.t === "word") {
      const w = tok.v.toLowerCase();
      if (w === "true" || w === "false") return w === "true";
      if (w === "null" || w === "none") return null;
      return fail(`unexpected ${tok.v}`);
    }
    if (tok.v === "(") {
      const list: Value[] = [];
      if (peek()?.t === "sym" && peek()!.v === ")") { p++; return list; }
      for (;;) {
        list.push(value());
        if (peek()?.t === "sym" && peek()!.v === ",") { p++; continue; }
        sym(")");
        return list;
      }
    }
    return fail(`unexpected ${tok.v}`);
  };
  const unary = (): Expr => {
    if (isWord("not")) { p++; return { kind: "not", expr: unary() }; }
    if (peek()?.t === "sym" && peek()!.v === "(") { p++; const e = or(); sym(")"); return e; }
    const path = word().split(".");
    const opTok = toks[p++];
    const op = opTok?.t === "word" || opTok?.t === "sym" ? String(opTok.v).toLowerCase() : "";
    if (!OPS.has(op)) fail(`unknown operator ${op}`);
    return { kind: "cmp", path, op, value: value() };
  };
  const and = (): Expr => {
    let left = unary();
    while (isWord("and")) { p++; left = { kind: "and", left, right: unary() }; }
    return left;
  };
  const or = (): Expr => {
    let left = and();
    while (isWord("or")) { p++; left = { kind: "or", left, right: and() }; }
    return left;
  };

  let where: Expr | undefined;
  if (isWord("where")) { p++; where = or(); }
  let orderBy: Query["orderBy"];
  let limit: number | undefined;
  let offset: number | undefined;
  while (p < toks.length) {
    if (isWord("order")) {
      p++;
      if (!isWord("by")) fail("expected by");
      p++;
      const path = word().split(".");
      let desc = false;
      if (isWord("asc") || isWord("desc")) desc = (toks[p++]!.v as string).toLowerCase() === "desc";
      orderBy = { path, desc };
    } else if (isWord("limit") || isWord("offset")) {
      const which = (toks[p++]!.v as string).toLowerCase();
      const n = toks[p++];
      if (n?.t !== "num") fail(`expected a number after ${which}`);
      if (which === "limit") limit = n!.v as number;
      else offset = n!.v as number;
    } else {
      fail(`unexpected ${String(peek()!.v)}`);
    }
  }
  return { select, type, where, orderBy, limit, offset };
}
