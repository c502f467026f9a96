/**
 * The lexer of apimachinery's label selector grammar (pkg/labels/selector.go), byte for byte:
 * which runs of characters are words, which are operators.
 */
import { SelectorError } from "./selector-error.ts";

export type Token =
  | "end" | ")" | "," | "!" | "==" | "=" | ">" | "identifier" | "in" | "<" | "!=" | "notin" | "(";

/** The tokens a literal stands for; anything else is an identifier. */
const LITERALS: Record<string, Token> = {
  ")": ")", ",": ",", "!": "!", "==": "==", "=": "=", ">": ">", in: "in", "<": "<", "!=": "!=", notin: "notin", "(": "(",
};

export interface Scanned {
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
export class Lexer {
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
export function asValue(scanned: Scanned): Scanned {
  return scanned.token === "in" || scanned.token === "notin" ? { token: "identifier", literal: scanned.literal } : scanned;
}

