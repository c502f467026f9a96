/**
 * One label requirement and apimachinery's `NewRequirement` validation of its key, operator
 * and values.
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

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INTEGER = /^[+-]?[0-9]+$/;
const INT64_MAX = 2n ** 63n - 1n;

/** Go's `strconv.ParseInt(value, 10, 64)`; undefined where it fails. */
export function parseInt64(value: string): bigint | undefined {
  if (!INTEGER.test(value)) return undefined;
  const parsed = BigInt(value);
  return parsed > INT64_MAX || parsed < -INT64_MAX - 1n ? undefined : parsed;
}

/** apimachinery's `IsQualifiedName`: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function validateLabelKey(key: string): void {
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
export function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
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
