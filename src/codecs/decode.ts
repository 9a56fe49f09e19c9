/**
 * The one place where data from outside is decoded. Everything that crosses the wire or
 * comes from a user's file goes through {@link decodeOrThrow}.
 */
import * as t from 'io-ts';
import { DecodeError } from '../http/errors';

/** Renders an io-ts context as a path: `data[3].initial_margin`. */
export function contextPath(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const entry = context[i];
    const parent = context[i - 1].type;
    if (parent instanceof t.ArrayType || parent instanceof t.ReadonlyArrayType || parent instanceof t.TupleType) {
      path += `[${entry.key}]`;
    } else if (
      parent instanceof t.InterfaceType ||
      parent instanceof t.PartialType ||
      parent instanceof t.DictionaryType ||
      parent instanceof t.ExactType ||
      parent instanceof t.StrictType
    ) {
      path += path === '' ? entry.key : `.${entry.key}`;
    }
    // Anything else (intersection or union members, wrapped shapes) adds no step a user would see.
  }
  return path === '' ? '(root)' : path;
}

/** Turns io-ts errors into one line per bad field (`path: expected …`), never showing values. */
export function describeErrors(errors: t.Errors): { paths: string[]; lines: string[] } {
  const byPath = new Map<string, string>();
  for (const error of errors) {
    const path = contextPath(error.context);
    if (byPath.has(path)) continue;
    const last = error.context[error.context.length - 1];
    const expected = error.message ?? `expected ${last?.type.name ?? 'a value'}`;
    byPath.set(path, error.value === undefined ? `${path}: required (${expected})` : `${path}: ${expected}`);
  }
  return { paths: [...byPath.keys()], lines: [...byPath.values()] };
}

/**
 * Decodes `value` with `codec` or throws a {@link DecodeError} listing the bad field paths.
 *
 * Example: `decodeOrThrow(BatchStatus, json, 'batch status')`
 *
 * @param codec the io-ts codec
 * @param value the parsed JSON
 * @param what a few words naming the value, used in the error message
 */
export function decodeOrThrow<A, O>(codec: t.Type<A, O, unknown>, value: unknown, what: string): A {
  // Fast path: data that already has the decoded shape is returned as it is (several times
  // cheaper than validate). Safe because every codec here has an `is` that accepts only
  // values its decode would return unchanged: Numeric's `is` refuses numeric strings and
  // nullish's refuses null, so those still go through decode and get converted.
  if (codec.is(value)) return value;
  const result = codec.decode(value);
  if (result._tag === 'Right') return result.right;
  const { paths, lines } = describeErrors(result.left);
  throw new DecodeError(what, paths, lines);
}
