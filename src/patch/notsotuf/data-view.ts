/** A DataView over exactly `bytes` (which may be a view into a larger buffer), for reading executable headers. */
export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
