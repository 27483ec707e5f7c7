// Drives real node-resque against the Redis on REDIS_PORT, then reports what node-resque's own API says.
// Run by record.py (which installs node-resque from npm and dumps Redis); not part of the test run.
//
// Scenario: 3 OkJob + 2 FailJob on `fast`, 1 SlowJob on `slow`, 4 MailJob on `mailers` (no worker listens),
// 1 MailJob delayed by an hour. Worker A (fast,slow) works fast, then takes SlowJob and is busy at the dump.
// Worker B (idle) polls an empty queue. The API report is printed as one JSON line; the worker keeps
// running until stdin closes, so the dump is taken while SlowJob runs.
"use strict";
const { Queue, Worker } = require("node-resque");

const connection = { pkg: "ioredis", host: "127.0.0.1", port: Number(process.env.REDIS_PORT), database: 0, namespace: "resque" };
let slowStarted = false;
const jobs = {
  OkJob: { perform: async (n) => n },
  FailJob: {
    perform: async (n) => {
      throw new TypeError(`boom: ${n}`);
    },
  },
  SlowJob: {
    perform: async (ms) => {
      slowStarted = true;
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
  },
};

async function waitFor(check, what) {
  const deadline = Date.now() + 30000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main() {
  const queue = new Queue({ connection }, jobs);
  await queue.connect();
  for (let n = 1; n <= 4; n++) await queue.enqueue("mailers", "MailJob", [`user${n}@example.com`, { template: "welcome", n }]);
  await queue.enqueueIn(3600 * 1000, "mailers", "MailJob", ["later@example.com", { template: "reminder", n: 5 }]);
  for (let n = 1; n <= 3; n++) await queue.enqueue("fast", "OkJob", [n]);
  for (let n = 1; n <= 2; n++) await queue.enqueue("fast", "FailJob", [n]);
  await queue.enqueue("slow", "SlowJob", [600000]);

  let successes = 0;
  let failures = 0;
  const busy = new Worker({ connection, queues: ["fast", "slow"], timeout: 500 }, jobs);
  busy.on("success", () => successes++);
  busy.on("failure", () => failures++);
  busy.on("error", (error) => console.error("worker error", error));
  // A second worker of this process is named as MultiWorker names them: host:pid+N.
  const idle = new Worker({ connection, name: `${require("os").hostname()}:${process.pid}+1`, queues: ["idle"], timeout: 500 }, jobs);
  await busy.connect();
  await idle.connect();
  await busy.start();
  await idle.start();
  await waitFor(() => successes === 3 && failures === 2 && slowStarted, "the fast jobs and SlowJob to start");
  await new Promise((resolve) => setTimeout(resolve, 300)); // the worker:<id> record of SlowJob is written

  const queues = (await queue.queues()).sort();
  const lengths = {};
  for (const q of queues) lengths[q] = await queue.length(q);
  const report = {
    stats: await queue.stats(),
    queues,
    lengths,
    failed_count: await queue.failedCount(),
    failed: await queue.failed(0, -1),
    workers: await queue.workers(),
    working_on: await queue.allWorkingOn(),
    timestamps: await queue.timestamps(),
    busy_worker_name: busy.name,
    idle_worker_name: idle.name,
  };
  process.stdout.write(JSON.stringify(report) + "\n");
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve));
  process.exit(0); // SlowJob is still running: leave its record where it is, as a killed host would
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
