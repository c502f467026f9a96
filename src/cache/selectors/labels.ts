/**
 * Label selectors exactly as kube-apiserver 1.20 reads them: a port of apimachinery's
 * `labels.Parse` (pkg/labels/selector.go: the parser here, lexer and `NewRequirement` validation beside) and of
 * `Requirement.Matches`, so an offline answer filters like the cloud would.
 */
import { asValue, Lexer, type Scanned } from "./label-lexer.ts";
import { SelectorError } from "./selector-error.ts";
import {
  type LabelOperator, type LabelRequirement, type LabelSelector, newRequirement, parseInt64, validateLabelKey,
} from "./label-requirement.ts";

export type { LabelOperator, LabelRequirement, LabelSelector } from "./label-requirement.ts";

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
