'use strict';
// The real node-redlock (npm "redlock", with ioredis as its client) driven line by line by
// tests/tst_peer_noderedlock.cpp, so that LockScope reads locks the library itself wrote.
//
//   node redlock-peer.js PORT [PORT...]
//
// One command per line on stdin, one JSON object per line on stdout:
//   acquire single|group RESOURCE TTL_MS  -> {"ok":true,"resource":..,"value":..,"expiration":..}
//                                            (single: a Redlock of the first node alone;
//                                             group: a Redlock of every node)
//   release RESOURCE                      -> {"ok":true} (the lock this process holds on it)
//   quit
// Failures answer {"ok":false,"error":"..."}. The locks stay held (the process keeps its Lock
// objects) until released or until their TTL runs out.

const readline = require('readline');
const Redis = require('ioredis');
const Redlock = require('redlock');

const ports = process.argv.slice(2).map(Number);
if (ports.length === 0 || ports.some((port) => !Number.isInteger(port) || port <= 0)) {
    process.stderr.write('usage: node redlock-peer.js PORT [PORT...]\n');
    process.exit(2);
}

const clients = ports.map(
    (port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, enableOfflineQueue: true }));
// No retries: the test wants each acquire to succeed or fail at once.
const redlocks = {
    single: new Redlock([clients[0]], { retryCount: 0 }),
    group: new Redlock(clients, { retryCount: 0 }),
};
const held = new Map();

// node-redlock's value is 16 random bytes in hex. One value in 64 carries uuid1's version and
// variant nibbles, and one of those in about 37 also a plausible uuid1 time: LockScope reads
// such a value as redis-py's (uuid1().hex), by design (core/inspect/lockschema.cpp). The peer
// draws again so that the test's expectation does not depend on luck.
function looksLikeUuid1(value) {
    return value.length === 32 && value[12] === '1' && '89ab'.includes(value[16]);
}

async function acquire(kind, resource, ttl) {
    const redlock = redlocks[kind];
    if (!redlock)
        throw new Error(`unknown set "${kind}" (single or group)`);
    let lock = await redlock.lock(resource, ttl);
    while (looksLikeUuid1(lock.value)) {
        await lock.unlock();
        lock = await redlock.lock(resource, ttl);
    }
    held.set(resource, lock);
    return { ok: true, resource, value: lock.value, expiration: lock.expiration, nodes: kind === 'single' ? 1 : clients.length };
}

async function release(resource) {
    const lock = held.get(resource);
    if (!lock)
        throw new Error(`no lock held on "${resource}"`);
    await lock.unlock();
    held.delete(resource);
    return { ok: true };
}

function answer(object) {
    process.stdout.write(JSON.stringify(object) + '\n');
}

async function handle(line) {
    const words = line.trim().split(/\s+/);
    switch (words[0]) {
    case 'acquire':
        return acquire(words[1], words[2], Number(words[3]));
    case 'release':
        return release(words[1]);
    case 'quit':
        await Promise.all(clients.map((client) => client.quit()));
        process.exit(0);
        break;
    default:
        throw new Error(`unknown command "${words[0]}"`);
    }
}

// Commands run one after another, in the order they arrive.
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === '')
        return;
    queue = queue.then(() => handle(line)).then(answer, (error) => answer({ ok: false, error: String(error && error.message || error) }));
});
process.stdin.on('end', () => queue.then(() => process.exit(0)));

Promise.all(clients.map((client) => new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
}))).then(() => answer({ ready: true, redlock: require('redlock/package.json').version, ioredis: require('ioredis/package.json').version }),
    (error) => {
        answer({ ok: false, error: `cannot connect: ${error.message}` });
        process.exit(1);
    });
