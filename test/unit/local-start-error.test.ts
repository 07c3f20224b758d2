/** `npm start`'s start errors: a port in use names the variable that moves it. */
import { createServer } from 'node:net';
import { startErrorMessage } from '../../service/local/start-error';

const config = { service: { port: 9091 }, local: { sqsPort: 9324 } } as Parameters<
  typeof startErrorMessage
>[1];

it.each<[number, RegExp]>([
  [
    9091,
    /port 9091 is already in use \(the service\)[\s\S]*\nStop it, or choose another port with ACCRUE_PORT, e.g\. ACCRUE_PORT=9191 npm start\.$/,
  ],
  [
    9324,
    /port 9324 is already in use \(the embedded SQS endpoint\)[\s\S]*ACCRUE_LOCAL_SQS_PORT=9424 npm start\.$/,
  ],
  [
    7777,
    /port 7777 is already in use [\s\S]*choose another port with ACCRUE_PORT or ACCRUE_LOCAL_SQS_PORT\.$/,
  ],
])('a real EADDRINUSE on port %i', async (port, pattern) => {
  // The error a real listen raises (Node's shape), on a free port, then renamed to the port in question.
  const a = createServer();
  await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
  const used = (a.address() as { port: number }).port;
  const b = createServer();
  const err = await new Promise<NodeJS.ErrnoException & { port?: number }>((r) => {
    b.once('error', r);
    b.listen(used, '127.0.0.1');
  });
  a.close();
  expect(err.code).toBe('EADDRINUSE');
  expect(startErrorMessage({ ...err, message: err.message, port }, config)).toMatch(pattern);
});

it('other errors keep their message', () => {
  expect(startErrorMessage(new Error('ACCRUE_PORT: must be a port number'), config)).toBe(
    'accrue: could not start: ACCRUE_PORT: must be a port number',
  );
});
