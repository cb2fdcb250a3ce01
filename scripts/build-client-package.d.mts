/** Types of scripts/build-client-package.mjs, for the tests that import it. */
export declare const CLIENT_PACKAGE_NAME: string;
export declare function importClosure(
  distDir: string,
  entries: readonly string[],
): { files: string[]; packages: Map<string, string> };
export declare function checkClientImports(packages: Map<string, string>): void;
export declare function buildClientPackage(outDir: string): {
  outDir: string;
  files: number;
  packages: string[];
};
