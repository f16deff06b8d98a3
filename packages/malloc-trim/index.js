'use strict';
// The addon when it was built (it needs a C compiler at install time; nothing is downloaded).
// Without it, `trim` is undefined and the caller goes on without trimming.
let trim;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS addon loader
  trim = require('./build/Release/malloc_trim.node').trim;
} catch {
  trim = undefined;
}
module.exports = { trim };
