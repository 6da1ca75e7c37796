import { once } from 'node:events';
import { type ChildProcess, spawn } from 'node:child_process';
import { type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Deadlines } from './deadlines.js';

/** Holds the event loop, as a burst of other requests would. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** An echo server in a process of its own: it answers while this one is busy. */
const ECHO_SERVER = `require('node:net')
  .createServer((socket) => socket.on('error', () => {}).on('data', (data) => socket.write(data)))
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

describe('Deadlines', () => {
  let server: ChildProcess;
  let client: Socket;

  beforeAll(async () => {
    server = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [port] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    client = connect(Number(String(port).trim()), '127.0.0.1');
    await once(client, 'connect');
  });

  afterAll(async () => {
    client.destroy();
    server.kill();
    await once(server, 'exit');
  });

  const echo = () => {
    const reply = once(client, 'data').then(([data]) => String(data));
    client.write('pong');
    return reply;
  };

  it('passes on a timely answer', async () => {
    await expect(new Deadlines(250).within(echo())).resolves.toBe('pong');
  });

  it('rejects a call that is not answered in time', async () => {
    const started = performance.now();
    await expect(new Deadlines(100).within(new Promise(() => undefined))).rejects.toThrow(
      'no answer within 100 ms',
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('uses an answer that arrived while this process was too busy to read it', async () => {
    const deadlines = new Deadlines(100);
    const call = deadlines.within(echo());
    busy(400); // the answer waits in the socket, past the deadline
    await expect(call).resolves.toBe('pong');
  });
});
