// Run by node.exe under Wine for versioned.wine.ts: what a Windows installer and app do with the versioned layout,
// through the public API only ('notsotuf/client', this package's own exports, i.e. the built dist/). Plain
// JavaScript, so no TypeScript loader is needed under Wine. Prints one JSON line; usage errors exit 64.
//
//   install <release dir> <root> <version>      the installer: first version, then the .cmd entry point
//   launch <entry .cmd> [args…]                   start the entry point as Explorer would, through cmd.exe
//   update <root> <cache> <version> <url> <root.json>
//   check <root> <cache> <version> <url> <root.json>
import { spawnSync } from 'node:child_process';
import { Client, versionedStrategy, writeEntryPoint } from 'notsotuf/client';

const [command, ...rest] = process.argv.slice(2);
const print = (value) => console.log(JSON.stringify(value));

function client([root, cacheDir, currentVersion, url, trustedRoot]) {
  return new Client({
    appName: 'app',
    currentVersion,
    installDir: root, // a versioned root (it has install.json): the client picks the versioned install itself
    cacheDir,
    metadataUrl: `${url}/metadata/`,
    targetsUrl: `${url}/targets/`,
    trustedRoot: { path: trustedRoot },
    fetch: { retryDelayMs: 5 },
  });
}

switch (command) {
  case 'install': {
    const [sourceDir, root, version] = rest;
    await versionedStrategy({ entry: 'app.mjs' }).install({ sourceDir, installDir: root, version });
    const entry = await writeEntryPoint(root, { appName: 'app' });
    print({ kind: entry.kind, path: entry.path });
    break;
  }
  case 'launch': {
    // cmd /d /s /c "<line>": /s strips just the outer quotes, so every word of the line keeps its own quotes.
    const line = rest.map((word) => `"${word}"`).join(' ');
    const cmd = process.env.ComSpec ?? 'cmd.exe';
    const r = spawnSync(cmd, ['/d', '/s', '/c', `"${line}"`], {
      stdio: 'inherit',
      windowsVerbatimArguments: true,
    });
    process.exit(r.status ?? 1);
    break;
  }
  case 'update': {
    const result = await client(rest).update();
    print(
      result && { version: result.version, outcome: result.outcome.kind, method: result.download.method },
    );
    break;
  }
  case 'check': {
    const c = client(rest);
    const lastResult = await c.lastUpdateResult();
    print({ lastResult, update: (await c.checkForUpdates())?.version ?? null });
    break;
  }
  default:
    console.error(`unknown command ${command}`);
    process.exit(64);
}
