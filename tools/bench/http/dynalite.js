#!/usr/bin/env node
// A dynalite (DynamoDB on LevelDB in memory) in its own process, so that its work never shares the load
// generator's event loop: reports { port } over IPC and runs until its parent disconnects.
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => server.close(() => process.exit(0)));
