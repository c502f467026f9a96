/**
 * A selector the cloud would refuse with `400 BadRequest`; the message says what is wrong.
 *
 * @example
 * throw new SelectorError("field label not supported: spec.foo");
 */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
}
