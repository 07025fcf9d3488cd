// Reads an agent's configuration file without trusting it: the file may be huge, a directory, a FIFO, a
// symlink loop, unreadable or binary. Each of those is an answer, never an exception or a hang.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Config files are kilobytes; ~/.claude.json with long histories can reach a few megabytes. */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;

export type FileRead = { kind: 'text'; text: string } | { kind: 'missing' } | { kind: 'problem'; message: string };

/** The file's text when it is a readable regular text file of at most maxBytes. */
export function readConfigFile(path: string, maxBytes = DEFAULT_MAX_FILE_BYTES): FileRead {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO planted where a file should be must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    return openProblem(error);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { kind: 'problem', message: 'a directory where a file was expected: not read' };
    if (!stat.isFile()) return { kind: 'problem', message: 'not a regular file (a device, FIFO or socket): not read' };
    if (stat.size > maxBytes) return { kind: 'problem', message: `${stat.size} bytes, over the ${maxBytes}-byte limit: not read` };
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    // Read at most one byte past the limit: a file that grows while being read is still capped.
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) return { kind: 'problem', message: `grew past the ${maxBytes}-byte limit while being read: not read` };
    const bytes = buffer.subarray(0, length);
    if (bytes.includes(0)) return { kind: 'problem', message: 'a binary file (it holds NUL bytes) where text was expected: not read' };
    return { kind: 'text', text: bytes.toString('utf8') };
  } catch (error) {
    return { kind: 'problem', message: `cannot be read: ${(error as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

function openProblem(error: unknown): FileRead {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
  if (code === 'ELOOP') return { kind: 'problem', message: 'a symbolic link loop: not read' };
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'problem', message: 'permission denied: not read' };
  if (code === 'EISDIR') return { kind: 'problem', message: 'a directory where a file was expected: not read' };
  return { kind: 'problem', message: `cannot be opened: ${(error as Error).message}` };
}
