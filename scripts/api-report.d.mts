/** Types of scripts/api-report.mjs, for the test that imports it. */
export declare const REPORT_PATH: string;
export declare function apiReport(): string;
