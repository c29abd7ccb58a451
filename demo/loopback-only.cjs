// Preloaded (node --require) into the demo and every task it runs, after
// test/support/loopback-dns.cjs: a name or address that is not loopback fails to connect
// with a line saying so, so the demo can never reach past this machine by accident.
'use strict';
const dns = require('node:dns');
const net = require('node:net');

const loopbackName = /^(localhost|(.+\.)?azure\.test)\.?$/i;
const isLoopbackAddress = (address) =>
  /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
const refusal = (target) => {
  const error = new Error(`The demo talks only to loopback; it refused to reach ${target}.`);
  error.code = 'ENOTFOUND';
  return error;
};

const lookup = dns.lookup;
dns.lookup = function loopbackOnlyLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (typeof hostname === 'string' && net.isIP(hostname) === 0 && !loopbackName.test(hostname)) {
    process.nextTick(callback, refusal(hostname));
    return {};
  }
  return lookup.call(this, hostname, options, callback);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function loopbackOnlyConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const host = typeof first === 'object' && first !== null ? first.host : args[1];
  const path = typeof first === 'object' && first !== null ? first.path : undefined;
  if (!path && typeof host === 'string' && net.isIP(host) !== 0 && !isLoopbackAddress(host)) {
    process.nextTick(() => this.destroy(refusal(host)));
    return this;
  }
  return connect.apply(this, args);
};
