// tuf-js's `debug` dependency tries require('supports-color'); a single-executable app can only require Node's
// built-in modules, so the bundle gets this empty stand-in (no colours in debug output).
module.exports = {};
