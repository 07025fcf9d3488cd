import { request } from 'node:http';

/** Whether a daemon answers on this socket within half a second. */
export function daemonAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = request({ socketPath: socket, path: '/v1/health', timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    probe.on('error', () => resolve(false));
    probe.on('timeout', () => (probe.destroy(), resolve(false)));
    probe.end();
  });
}
