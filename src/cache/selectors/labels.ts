/**
 * Label selectors exactly as kube-apiserver 1.20 reads them: a port of apimachinery's
 * `labels.Parse` (pkg/labels/selector.go: lexer, parser, `NewRequirement` validation) and of
 * `Requirement.Matches`, so an offline answer filters like the cloud would.
 */
import { SelectorError } from "./selector-error.ts";

export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and unique, as apimachinery's `sets.String.List()` leaves them. */
  values: string[];
}

/** All requirements must match (an empty selector matches everything). */
export type LabelSelector = LabelRequirement[];

type Token =
  | "end" | ")" | "," | "!" | "==" | "=" | ">" | "identifier" | "in" | "<" | "!=" | "notin" | "(";

/** The tokens a literal stands for; anything else is an identifier. */
const LITERALS: Record<string, Token> = {
  ")": ")", ",": ",", "!": "!", "==": "==", "=": "=", ">": ">", in: "in", "<": "<", "!=": "!=", notin: "notin", "(": "(",
};

interface Scanned {
  token: Token;
  literal: string;
}

function isWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
}

function isSpecialSymbol(ch: string): boolean {
  return "=!(),><".includes(ch) && ch !== "";
}

/** Go's lexer reads bytes and treats byte 0 as the end, so a NUL ends the token it is in. */
class Lexer {
  private pos = 0;
  constructor(private readonly text: string) {}

  private read(): string {
    if (this.pos >= this.text.length) return "\0";
    return this.text[this.pos++]!;
  }

  private unread(): void {
    this.pos--;
  }

  lex(): Scanned {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === "\0") return { token: "end", literal: "" };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdentifierOrKeyword();
  }

  private scanIdentifierOrKeyword(): Scanned {
    let literal = "";
    for (;;) {
      const ch = this.read();
      if (ch === "\0") break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      literal += ch;
    }
    return { token: LITERALS[literal] ?? "identifier", literal };
  }

  /** The longest run of special symbols that is still a token ("!=" rather than "!"). */
  private scanSpecialSymbol(): Scanned {
    let buffer = "";
    let last: Scanned | undefined;
    for (;;) {
      const ch = this.read();
      if (ch === "\0") break;
      if (!isSpecialSymbol(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const token = LITERALS[buffer];
      if (token !== undefined) last = { token, literal: buffer };
      else if (last !== undefined) {
        this.unread();
        break;
      }
    }
    if (last === undefined) throw new SelectorError(`error expected: keyword found '${buffer}'`);
    return last;
  }
}

/** In a value position, `in` and `notin` are plain words ("x in (in)"). */
function asValue(scanned: Scanned): Scanned {
  return scanned.token === "in" || scanned.token === "notin" ? { token: "identifier", literal: scanned.literal } : scanned;
}

class Parser {
  private readonly items: Scanned[] = [];
  private position = 0;

  constructor(text: string) {
    const lexer = new Lexer(text);
    for (;;) {
      const scanned = lexer.lex();
      this.items.push(scanned);
      if (scanned.token === "end") break;
    }
  }

  private lookahead(values = true): Scanned {
    const scanned = this.items[this.position]!;
    return values ? asValue(scanned) : scanned;
  }

  private consume(values = true): Scanned {
    return values ? asValue(this.items[this.position++]!) : this.items[this.position++]!;
  }

  parse(): LabelSelector {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead();
      if (token === "end") return requirements;
      if (token !== "identifier" && token !== "!") {
        throw new SelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (error) {
        throw new SelectorError(`unable to parse requirement: ${(error as Error).message}`);
      }
      const next = this.consume();
      if (next.token === "end") return requirements;
      if (next.token !== ",") throw new SelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead();
      if (after.token !== "identifier" && after.token !== "!") {
        throw new SelectorError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let scanned = this.consume();
    let operator: LabelOperator | undefined;
    if (scanned.token === "!") {
      operator = "!";
      scanned = this.consume();
    }
    if (scanned.token !== "identifier") throw new SelectorError(`found '${scanned.literal}', expected: identifier`);
    const key = scanned.literal;
    validateLabelKey(key);
    const next = this.lookahead().token;
    if (next === "end" || next === ",") operator = operator ?? "exists";
    if (operator === "exists" || operator === "!") return newRequirement(key, operator, []);
    const op = this.parseOperator();
    const values = op === "in" || op === "notin" ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, [...values].sort());
  }

  private parseOperator(): LabelOperator {
    const { token, literal } = this.consume(false);
    switch (token) {
      case "in": case "notin": case "=": case "==": case ">": case "<": case "!=":
        return token;
      default:
        throw new SelectorError(`found '${literal}', expected: '=', '!=', '==', 'in', notin'`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume();
    if (open.token !== "(") throw new SelectorError(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.lookahead();
    if (token === ")") {
      this.consume();
      return new Set([""]);
    }
    if (token !== "identifier" && token !== ",") {
      throw new SelectorError(`found '${literal}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    if (this.consume().token !== ")") throw new SelectorError(`found '${literal}', expected: ')'`);
    return values;
  }

  /** A comma-separated list in which empty entries stand for the empty value ("(a,,b)", "(,a)"). */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { token, literal } = this.consume();
      if (token === "identifier") {
        values.add(literal);
        const next = this.lookahead();
        if (next.token === ",") continue;
        if (next.token === ")") return values;
        throw new SelectorError(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (token !== ",") throw new SelectorError(`found '${literal}', expected: ',', or identifier`);
      if (values.size === 0) values.add("");
      const next = this.lookahead().token;
      if (next === ")") {
        values.add("");
        return values;
      }
      if (next === ",") {
        this.consume();
        values.add("");
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead().token;
    if (next === "end" || next === ",") return new Set([""]);
    const { token, literal } = this.consume();
    if (token !== "identifier") throw new SelectorError(`found '${literal}', expected: identifier`);
    return new Set([literal]);
  }
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INTEGER = /^[+-]?[0-9]+$/;
const INT64_MAX = 2n ** 63n - 1n;

/** Go's `strconv.ParseInt(value, 10, 64)`; undefined where it fails. */
function parseInt64(value: string): bigint | undefined {
  if (!INTEGER.test(value)) return undefined;
  const parsed = BigInt(value);
  return parsed > INT64_MAX || parsed < -INT64_MAX - 1n ? undefined : parsed;
}

/** apimachinery's `IsQualifiedName`: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
function validateLabelKey(key: string): void {
  const parts = key.split("/");
  const problems: string[] = [];
  if (parts.length > 2) problems.push("a qualified name must be of the form [DNS_SUBDOMAIN/]NAME");
  else {
    const name = parts.length === 2 ? parts[1]! : parts[0]!;
    if (parts.length === 2) {
      const prefix = parts[0]!;
      if (prefix === "") problems.push("prefix part must be non-empty");
      else if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) problems.push("prefix part must be a DNS-1123 subdomain");
    }
    if (name === "") problems.push("name part must be non-empty");
    else if (name.length > 63) problems.push("name part must be no more than 63 characters");
    if (!QUALIFIED_NAME.test(name)) problems.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  }
  if (problems.length > 0) throw new SelectorError(`invalid label key "${key}": ${problems.join("; ")}`);
}

/** apimachinery's `NewRequirement` checks. */
function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  validateLabelKey(key);
  if ((operator === "in" || operator === "notin") && values.length === 0) {
    throw new SelectorError("for 'in', 'notin' operators, values set can't be empty");
  }
  if ((operator === "=" || operator === "==" || operator === "!=") && values.length !== 1) {
    throw new SelectorError("exact-match compatibility requires one single value");
  }
  if (operator === ">" || operator === "<") {
    if (values.length !== 1) throw new SelectorError("for 'Gt', 'Lt' operators, exactly one value is required");
    if (parseInt64(values[0]!) === undefined) throw new SelectorError("for 'Gt', 'Lt' operators, the value must be an integer");
  }
  for (const value of values) {
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      throw new SelectorError(`invalid label value: "${value}": at key: "${key}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
    }
  }
  return { key, operator, values };
}

/**
 * Parses a `labelSelector` query value; throws `SelectorError` (the cloud answers 400) when it is invalid.
 *
 * @example
 * parseLabelSelector("!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name");
 * // [{ key: "service.kubernetes.io/headless", operator: "!", values: [] },
 * //  { key: "service.kubernetes.io/service-proxy-name", operator: "!", values: [] }]
 */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements = new Parser(text).parse();
  // Stable sort by key, as apimachinery sorts requirements after parsing.
  return requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Whether an object's labels satisfy every requirement (apimachinery's `Requirement.Matches`).
 *
 * @example
 * matchesLabels(parseLabelSelector("tier in (web,api),!canary"), { tier: "web" }); // true
 */
export function matchesLabels(selector: LabelSelector, labels: Record<string, string>): boolean {
  return selector.every((requirement) => matchesRequirement(requirement, labels));
}

function matchesRequirement({ key, operator, values }: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, key);
  const value = has ? labels[key]! : "";
  switch (operator) {
    case "in": case "=": case "==":
      return has && values.includes(value);
    case "notin": case "!=":
      return !has || !values.includes(value);
    case "exists":
      return has;
    case "!":
      return !has;
    case ">": case "<": {
      const actual = has ? parseInt64(value) : undefined;
      const wanted = parseInt64(values[0]!);
      if (actual === undefined || wanted === undefined) return false;
      return operator === ">" ? actual > wanted : actual < wanted;
    }
  }
}
