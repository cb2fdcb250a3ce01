/**
 * Something that can sign TUF metadata with one key. The repository only needs the keyid and a signature;
 * where the key lives (an encrypted file, a hardware token, a cloud KMS) is the implementation's business.
 */
export interface Signer {
  /** The keyid as listed in root.json. */
  readonly keyid: string;
  /** A human name for messages (the key file name). */
  readonly name: string;
  /** Returns the signature over `data` as lowercase hex. */
  sign(data: Uint8Array): Promise<string>;
}
