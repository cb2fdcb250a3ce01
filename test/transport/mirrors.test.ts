import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isNotsotufError } from '../../src/core/errors.js';
import { normalizeMirror } from '../../src/transport/index.js';
import { mirrorUrlsFor, toBaseUrl } from '../../src/transport/mirrors.js';

describe('toBaseUrl', () => {
  const cases: { name: string; input: string; expected: string }[] = [
    {
      name: 'http, slash added',
      input: 'http://127.0.0.1:8080/metadata',
      expected: 'http://127.0.0.1:8080/metadata/',
    },
    {
      name: 'https, slash kept',
      input: 'https://example.com/repo/targets/',
      expected: 'https://example.com/repo/targets/',
    },
    { name: 'host only', input: 'https://example.com', expected: 'https://example.com/' },
    {
      name: 'written as URL writes it',
      input: 'HTTPS://Example.COM/a b',
      expected: 'https://example.com/a%20b/',
    },
    {
      name: 'query and fragment dropped',
      input: 'https://example.com/m?x=1#y',
      expected: 'https://example.com/m/',
    },
    { name: 'file URL', input: 'file:///srv/repo/metadata', expected: 'file:///srv/repo/metadata/' },
    {
      name: 'absolute directory path',
      input: '/srv/my repo/metadata',
      expected: `${pathToFileURL('/srv/my repo/metadata').href}/`,
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(toBaseUrl(c.input), c.expected));
  }

  for (const bad of [
    'relative/dir',
    './metadata',
    'ftp://example.com/m',
    'mailto:x@example.com',
    'http://',
    '',
  ]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => toBaseUrl(bad),
        (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
    });
  }
});

describe('mirrorUrlsFor', () => {
  const mirrors = [
    { metadataUrl: 'https://a.example/repo/', targetsUrl: 'https://a.example/repo/targets/' },
    { metadataUrl: 'https://b.example/m/', targetsUrl: 'https://cdn.example/t/' },
    normalizeMirror({ metadataUrl: '/mnt/usb/metadata', targetsUrl: '/mnt/usb/targets' }),
  ];
  const cases: { name: string; url: string; expected: string[] }[] = [
    {
      name: 'metadata file',
      url: 'https://a.example/repo/4.root.json',
      expected: [
        'https://a.example/repo/4.root.json',
        'https://b.example/m/4.root.json',
        'file:///mnt/usb/metadata/4.root.json',
      ],
    },
    {
      name: 'target below the metadata base: the longer (targets) base wins',
      url: 'https://a.example/repo/targets/sub/app-1.0.tar.gz',
      expected: [
        'https://a.example/repo/targets/sub/app-1.0.tar.gz',
        'https://cdn.example/t/sub/app-1.0.tar.gz',
        'file:///mnt/usb/targets/sub/app-1.0.tar.gz',
      ],
    },
    {
      name: 'a URL below no base is tried as it is',
      url: 'https://other.example/x',
      expected: ['https://other.example/x'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(mirrorUrlsFor(c.url, mirrors), c.expected));
  }
});
