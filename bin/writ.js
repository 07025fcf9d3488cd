#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// Once a command has finished (a long-running one has closed its servers), idle keep-alive sockets of the
// HTTP client must not hold the process open.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
});
