// A TCP proxy in front of PostgreSQL that the drill can close: every open connection is cut and new ones are
// refused until it opens again. To the app this is the database going away and coming back.
const net = require('node:net');

async function startTcpGate(targetHost, targetPort) {
  const pairs = new Set();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close() {
      open = false;
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    open() {
      open = true;
    },
    shutdown() {
      this.close();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startTcpGate };
