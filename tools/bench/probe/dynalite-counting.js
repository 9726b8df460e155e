#!/usr/bin/env node
// A dynalite in its own process, as tools/bench/http/dynalite.js starts it, that also counts the calls it answers by
// operation and reports them with its own CPU time: 'stats' over IPC answers { cpuMicros, calls, refused } (refused: answers other than 200).
const dynalite = require('dynalite');

const calls = {};
const refused = {};
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.on('request', (request) => {
  const operation = String(request.headers['x-amz-target'] ?? 'unknown').split('.').pop();
  calls[operation] = (calls[operation] ?? 0) + 1;
});
// Answers other than 200, by operation and status (throttling, conditional failures, validation errors).
server.on('request', (request, response) => {
  response.once('finish', () => {
    if (response.statusCode === 200) return;
    const key = `${String(request.headers['x-amz-target'] ?? 'unknown').split('.').pop()} ${response.statusCode}`;
    refused[key] = (refused[key] ?? 0) + 1;
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message !== 'stats') return;
  const { user, system } = process.cpuUsage();
  process.send({ cpuMicros: user + system, calls: { ...calls }, refused: { ...refused } });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
