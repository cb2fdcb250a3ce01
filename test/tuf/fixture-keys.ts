/** Paths and expected values of the tufup fixture keystore, shared by the key tests. */
import { fileURLToPath } from 'node:url';

export const KEYSTORE_DIR = fileURLToPath(new URL('../fixtures/tufup-repo-v0.10/keystore/', import.meta.url));
export const LEGACY_KEYS_DIR = fileURLToPath(new URL('../fixtures/legacy-keys/', import.meta.url));

/** The keyid table of the fixture README (keys section). */
export const FIXTURE_KEYIDS: Readonly<Record<string, string>> = {
  root1: '11979dc6ae78d6cda3a6f12f7aed95b6802fac825949036cd6b5862ee1cbad26',
  root2: 'b1854414d5826c04d2b2878493f02204a163249e588578eadca6302321950ff7',
  root3: 'f98250c0f823c49c5235362a7a2fa1fd9218f47fb42c87cf5e7fa1f85899c8d2',
  snapshot: 'b7d8350a562bc34cfdd3d1a68c52eface71006bd8b1b73a9199e6f477d879abf',
  targets: 'bf97ceed4c5c09adc5390ad87d2c017c7f6f27fe09a0637df704bfa79bac1e0f',
  timestamp: '0de8e40adf7edfd3e3fd846928b24541146d6a4da0534969e02d022c3855951f',
  timestamp2: '18489cda7ed53cd5c070fc34062e2dc1b40ad5e73231a42b56eec0ff92a4776b',
};

/** The lowest scrypt cost the reader accepts: keeps the encrypted-key tests fast. */
export const TEST_SCRYPT_N = 2 ** 14;
