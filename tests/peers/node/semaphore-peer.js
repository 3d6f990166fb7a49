'use strict';
// The real redis-semaphore (npm "redis-semaphore" 5.x, with ioredis as its client) driven line by
// line by tests/tst_peer_redissemaphore.cpp, so that LockScope reads the layouts the library
// itself writes: Mutex ("mutex:<key>" string), Semaphore and MultiSemaphore ("semaphore:<key>"
// sorted sets).
//
//   node semaphore-peer.js PORT
//
// One command per line on stdin, one JSON object per line on stdout:
//   mutex KEY TTL_MS                    -> {"ok":true,"identifier":..}
//   semaphore KEY LIMIT TTL_MS          -> {"ok":true,"identifier":..}
//   multi KEY LIMIT PERMITS TTL_MS      -> {"ok":true,"identifier":..}
//   quit
// Every acquire is a new lock object that stays held (its refresh timer keeps it alive) until
// the process quits. Failures answer {"ok":false,"error":"..."}.

const readline = require('readline');
const Redis = require('ioredis');
const { Mutex, Semaphore, MultiSemaphore } = require('redis-semaphore');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
    process.stderr.write('usage: node semaphore-peer.js PORT\n');
    process.exit(2);
}

const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
const held = [];

// One attempt: the test wants each acquire to succeed or fail at once.
function options(ttl) {
    return { lockTimeout: ttl, acquireAttemptsLimit: 1, onLockLost: () => {} };
}

async function acquire(lock) {
    const ok = await lock.tryAcquire();
    if (ok)
        held.push(lock);
    return { ok, identifier: lock.identifier };
}

function answer(object) {
    process.stdout.write(JSON.stringify(object) + '\n');
}

async function handle(line) {
    const words = line.trim().split(/\s+/);
    switch (words[0]) {
    case 'mutex':
        return acquire(new Mutex(client, words[1], options(Number(words[2]))));
    case 'semaphore':
        return acquire(new Semaphore(client, words[1], Number(words[2]), options(Number(words[3]))));
    case 'multi':
        return acquire(new MultiSemaphore(client, words[1], Number(words[2]), Number(words[3]),
            options(Number(words[4]))));
    case 'quit':
        await client.quit();
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

client.once('ready', () => answer({ ready: true, 'redis-semaphore': require('redis-semaphore/package.json').version, ioredis: require('ioredis/package.json').version }));
client.once('error', (error) => {
    answer({ ok: false, error: `cannot connect: ${error.message}` });
    process.exit(1);
});
