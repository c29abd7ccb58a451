// Preloaded (node --require) into test processes and the tasks they spawn: names under
// the emulated cloud's domain (*.azure.test, reserved by RFC 2606 so it never resolves
// on a real network) answer 127.0.0.1. Nothing else changes, and /etc/hosts is untouched.
'use strict';
const dns = require('node:dns');

const emulated = /(^|\.)azure\.test\.?$/i;
const original = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  } else if (typeof options === 'number') {
    options = { family: options };
  }
  if (typeof hostname === 'string' && emulated.test(hostname)) {
    const answer = { address: '127.0.0.1', family: 4 };
    if (options && options.all) process.nextTick(callback, null, [answer]);
    else process.nextTick(callback, null, answer.address, answer.family);
    return {};
  }
  return original.call(this, hostname, options, callback);
};

const promises = dns.promises;
const originalPromise = promises.lookup;
promises.lookup = function lookup(hostname, options) {
  if (typeof hostname === 'string' && emulated.test(hostname)) {
    const answer = { address: '127.0.0.1', family: 4 };
    return Promise.resolve(options && options.all ? [answer] : answer);
  }
  return originalPromise.call(this, hostname, options);
};
