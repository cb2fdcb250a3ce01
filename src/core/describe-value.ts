/**
 * An untrusted value as text for an error message, never throwing: parsed JSON can hold objects whose `toString`
 * is not callable (`{"toString": 1}`) or nesting too deep for JSON.stringify (RangeError). Strings and other
 * JSON values are shown as JSON.
 */
export function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? 'a deeply nested array' : `a deeply nested ${typeof value}`;
  }
}
