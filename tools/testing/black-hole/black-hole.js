// A TCP proxy in front of PostgreSQL whose network can stop carrying data: black-holed, every connection, open or
// new, stays open but nothing is forwarded either way (no reset, no FIN), as when a firewall or a NAT drops a flow.
// Healed, new connections are forwarded again; the stalled ones stay stalled until a side gives up on them.
const net = require('node:net');

async function startBlackHole(targetHost, targetPort) {
  const flows = new Set();
  let holed = false;
  const server = net.createServer((client) => {
    const flow = { client, upstream: undefined, stalled: holed };
    flows.add(flow);
    const end = () => {
      client.destroy();
      flow.upstream?.destroy();
      flows.delete(flow);
    };
    client.on('error', end).on('close', end);
    if (flow.stalled) return;
    const upstream = net.connect(targetPort, targetHost);
    flow.upstream = upstream;
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk) => {
      if (!flow.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!flow.stalled) client.write(chunk);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    blackHole() {
      holed = true;
      for (const flow of flows) flow.stalled = true;
    },
    heal() {
      holed = false;
    },
    shutdown() {
      for (const flow of flows) {
        flow.client.destroy();
        flow.upstream?.destroy();
      }
      flows.clear();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startBlackHole };
