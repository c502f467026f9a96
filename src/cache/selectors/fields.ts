/**
 * Field selectors exactly as kube-apiserver 1.20 reads them: apimachinery's
 * `fields.ParseSelector` (terms split on unescaped commas, `!=` / `==` / `=`, `\,` `\=` `\\`
 * escapes), then the resource's field label conversion, which refuses fields it cannot select.
 */
import { fieldLabelRule } from "./field-labels.ts";
import { SelectorError } from "./selector-error.ts";

export interface FieldTerm {
  /** The field after conversion (`spec.host` becomes `spec.nodeName`). */
  field: string;
  /** `=` and `==` mean the same. */
  operator: "=" | "!=";
  value: string;
}

/** All terms must match (an empty selector matches everything). */
export type FieldSelector = FieldTerm[];

/** Terms separated by commas that a backslash does not escape; the backslashes stay for unescaping. */
function splitTerms(selector: string): string[] {
  if (selector === "") return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (escaped) escaped = false;
    else if (ch === "\\") escaped = true;
    else if (ch === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The first operator from the left splits the term; `!=` and `==` are tried before `=`. */
function splitTerm(term: string): [string, "=" | "!=", string] | undefined {
  for (let i = 0; i < term.length; i++) {
    const rest = term.slice(i);
    if (rest.startsWith("!=")) return [term.slice(0, i), "!=", term.slice(i + 2)];
    if (rest.startsWith("==")) return [term.slice(0, i), "=", term.slice(i + 2)];
    if (rest.startsWith("=")) return [term.slice(0, i), "=", term.slice(i + 1)];
  }
  return undefined;
}

function unescapeValue(value: string): string {
  let out = "";
  let escaped = false;
  for (const ch of value) {
    if (escaped) {
      if (ch !== "\\" && ch !== "," && ch !== "=") throw new SelectorError(`invalid escape sequence: \\${ch}`);
      out += ch;
      escaped = false;
    } else if (ch === "\\") escaped = true;
    else if (ch === "," || ch === "=") throw new SelectorError(`invalid selector: unescaped ${ch}`);
    else out += ch;
  }
  if (escaped) throw new SelectorError("invalid escape sequence: \\");
  return out;
}

/**
 * Parses a `fieldSelector` query value for a resource (`group` "" is the core group) and
 * converts its field labels as that resource's API does; throws `SelectorError` where the cloud
 * answers 400 (bad syntax, a field the resource cannot select).
 *
 * @example
 * parseFieldSelector("spec.nodeName=edge-1,status.phase!=Succeeded", "", "pods");
 * // [{ field: "spec.nodeName", operator: "=", value: "edge-1" },
 * //  { field: "status.phase", operator: "!=", value: "Succeeded" }]
 */
export function parseFieldSelector(selector: string, group: string, resource: string): FieldSelector {
  const rule = fieldLabelRule(group, resource);
  const terms: FieldTerm[] = [];
  // Sorted like apimachinery, so a selector with two faults reports the same one.
  for (const part of splitTerms(selector).sort()) {
    if (part === "") continue;
    const split = splitTerm(part);
    if (split === undefined) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [label, operator, rawValue] = split;
    const value = unescapeValue(rawValue);
    const field = rule.accepts.get(label);
    if (field === undefined) throw new SelectorError(rule.refusal(label));
    terms.push({ field, operator, value });
  }
  return terms;
}

/**
 * Whether an object's selectable fields satisfy every term; a field the object's set lacks
 * reads as "" (apimachinery's `fields.Set.Get`).
 *
 * @example
 * matchesFields(parseFieldSelector("metadata.name=a", "", "configmaps"), { "metadata.name": "a" }); // true
 */
export function matchesFields(selector: FieldSelector, fields: Record<string, string>): boolean {
  return selector.every(({ field, operator, value }) => ((fields[field] ?? "") === value) === (operator === "="));
}
