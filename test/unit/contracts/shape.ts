import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A documented example from test/fixtures/contracts/. */
export const fixture = <T = any>(path: string): T => JSON.parse(readFileSync(join('test/fixtures/contracts', path), 'utf8')) as T;

/**
 * How `actual` departs from the documented example: a field the example lacks (something the
 * provider never sends, or spells otherwise), or a value of another JSON type. Arrays are held to
 * their first documented element.
 */
export function undocumented(actual: unknown, documented: unknown, path = '$'): string[] {
  if (Array.isArray(documented)) {
    if (!Array.isArray(actual)) return [`${path}: an array is documented, got ${kind(actual)}`];
    return actual.flatMap((item, i) => undocumented(item, documented[0], `${path}[${i}]`));
  }
  if (documented !== null && typeof documented === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: an object is documented, got ${kind(actual)}`];
    // A map of names the provider fills in freely (channel variables): only its values' type is held.
    const open = path.endsWith('.channelvars');
    return Object.entries(actual as Record<string, unknown>).flatMap(([key, value]) => {
      const expected = open ? Object.values(documented)[0] : (documented as Record<string, unknown>)[key];
      if (!open && !(key in (documented as object))) return [`${path}.${key}: not in the documented example`];
      return undocumented(value, expected, `${path}.${key}`);
    });
  }
  return kind(actual) === kind(documented) ? [] : [`${path}: ${kind(documented)} is documented, got ${kind(actual)}`];
}

/** The documented always-present fields (`a.b.0.c` paths) that `actual` lacks. */
export function missing(actual: unknown, required: string[]): string[] {
  return required.filter((path) => path.split('.').reduce<any>((value, key) => (value == null ? undefined : value[key]), actual) === undefined);
}

const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
