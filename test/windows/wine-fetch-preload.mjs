// Preloaded into every node.exe of the Windows lane (NODE_OPTIONS=--import, see wine-runner.ts). A Wine 8 gap, not
// Windows behaviour, so it lives here and never in src/: Node's fetch (undici) turns TCP keep-alive on while the
// socket is still connecting, and Wine 8's setsockopt refuses that on a socket not yet connected, so every fetch
// fails with `connect UNKNOWN`. Real Windows accepts it. This defers setKeepAlive until the socket has connected.
import net from 'node:net';

const setKeepAlive = net.Socket.prototype.setKeepAlive;
net.Socket.prototype.setKeepAlive = function (...args) {
  if (!this.connecting) return setKeepAlive.apply(this, args);
  this.once('connect', () => setKeepAlive.apply(this, args));
  return this;
};
