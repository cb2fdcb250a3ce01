/** notsotuf: secure self-updates on TUF. Import the publisher from `notsotuf/repo`. */
export * from './core/index.js';
