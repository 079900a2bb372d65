// Loads the test files named on the command line into this one process, where node:test runs them
// one after another. The unit tests share their modules this way: loading MJML, the templates and
// the TypeScript sources once per process instead of once per file is most of what they cost.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

for (const file of process.argv.slice(2)) await import(pathToFileURL(path.resolve(file)).href);
